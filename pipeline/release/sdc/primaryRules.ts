import { countProtectionLevel, type Rules } from '../../../schemas/rules.js';
import type { PrimaryFinding } from './protect.js';

/**
 * Primary suppression rules (docs/design.md, "Disclosure control"): which cells are
 * sensitive in themselves, why, and how much uncertainty they need.
 */

/** A count cell: fewer than the threshold of persons (an empty cell only when zeros are sensitive). */
export function countFinding(value: number, persons: number | undefined, rules: Rules): PrimaryFinding | undefined {
  const base = persons === undefined ? value : Math.min(value, persons);
  if (value === 0 && (persons ?? 0) === 0) {
    if (!rules.frequency.zerosAreSensitive) return undefined;
    return {
      rule: 'frequency.zero',
      reason: 'empty cell and zeros are sensitive',
      width: countProtectionLevel(rules),
      prefer: 'up',
    };
  }
  if (base < rules.frequency.minPersons) {
    return {
      rule: 'frequency',
      reason: `based on ${base} persons, fewer than ${rules.frequency.minPersons}`,
      width: countProtectionLevel(rules),
      prefer: 'up',
    };
  }
  return undefined;
}

/** A count that is the numerator of a share: numerator, denominator and complement each at least their minimum (0% and 100% reveal a whole group). */
export function rateFinding(numerator: number, denominator: number, rules: Rules): PrimaryFinding | undefined {
  const width = countProtectionLevel(rules);
  if (denominator === 0 && numerator === 0 && !rules.frequency.zerosAreSensitive) return undefined;
  if (denominator < rules.rates.minDenominator) {
    return {
      rule: 'rate.denominator',
      reason: `denominator ${denominator} below ${rules.rates.minDenominator}`,
      width,
      prefer: 'up',
    };
  }
  if (numerator < rules.rates.minNumerator) {
    return {
      rule: 'rate.numerator',
      reason: `numerator ${numerator} below ${rules.rates.minNumerator}`,
      width,
      prefer: 'up',
    };
  }
  const complement = denominator - numerator;
  if (complement < rules.rates.minComplement) {
    return {
      rule: 'rate.complement',
      reason: `complement ${complement} below ${rules.rates.minComplement} (share near 100%)`,
      width,
      prefer: 'down',
    };
  }
  return undefined;
}

/** A magnitude cell (mean of wages or hours), judged on its total: contributors, (n,k) dominance, p% rule. */
export function magnitudeFinding(
  contributors: number,
  sum: number,
  top1: number,
  top2: number,
  rules: Rules,
): PrimaryFinding | undefined {
  const m = rules.magnitude;
  const width = (m.protectionPercent / 100) * Math.abs(sum);
  if (contributors === 0) return { rule: 'magnitude.empty', reason: 'no contributors', width: 0, prefer: 'up' };
  if (contributors < m.minContributors) {
    return {
      rule: 'magnitude.contributors',
      reason: `${contributors} contributors, fewer than ${m.minContributors}`,
      width,
      prefer: 'up',
    };
  }
  const largest = m.dominance.n === 1 ? top1 : top1 + top2;
  if (sum > 0 && largest > (m.dominance.kPercent / 100) * sum) {
    return {
      rule: 'magnitude.dominance',
      reason: `the ${m.dominance.n} largest contributors hold more than ${m.dominance.kPercent}% of the total`,
      width,
      prefer: 'up',
    };
  }
  if (sum - top1 - top2 < (m.pPercent / 100) * top1) {
    return {
      rule: 'magnitude.p-ratio',
      reason: `the second largest contributor could estimate the largest within ${m.pPercent}%`,
      width,
      prefer: 'up',
    };
  }
  return undefined;
}
