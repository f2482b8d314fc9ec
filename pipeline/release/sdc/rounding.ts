import type { RoundingRule } from '../../../schemas/rules.js';

/** The published value of a count under a rounding rule, or undefined when it is redacted. */
export function roundCount(value: number, rule: RoundingRule): number | undefined {
  switch (rule.method) {
    case 'none':
      return value;
    case 'base':
      return Math.round(value / rule.base) * rule.base;
    case 'redact-round':
      if (value > 0 && value <= rule.redactAtMost) return undefined;
      return Math.round(value / rule.base) * rule.base;
    case 'midpoint6':
      return value === 0 ? 0 : Math.ceil(value / 6) * 6 - 3;
  }
}

/** What an attacker knows of the true count from its published rounded value: [lo, hi]. */
export function roundingPreimage(published: number, rule: RoundingRule): [number, number] {
  switch (rule.method) {
    case 'none':
      return [published, published];
    case 'base': {
      const half = Math.floor(rule.base / 2);
      return [Math.max(0, published - half), published + (rule.base % 2 === 0 ? half - 1 : half)];
    }
    case 'redact-round': {
      // A published count is never one of the redacted values, and a published 0 came from a true 0.
      const half = Math.floor(rule.base / 2);
      if (published === 0) return [0, rule.redactAtMost >= half ? 0 : half];
      return [Math.max(rule.redactAtMost + 1, published - half), published + (rule.base % 2 === 0 ? half - 1 : half)];
    }
    case 'midpoint6':
      return published === 0 ? [0, 0] : [published - 2, published + 3];
  }
}
