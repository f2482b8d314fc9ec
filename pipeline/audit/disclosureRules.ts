import { access, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { projectPath } from '../core/projectPath.js';
import type { AuditedManifest } from './workspace.js';

/**
 * The disclosure rules the release is re-checked against (docs/design.md,
 * "Disclosure control"). Taken from what the release manifest recorded (its
 * rules object, or the rules file it names), else the project's
 * examples/rules.json, else the defaults of docs/design.md ("Disclosure control"). Each number is read by name
 * from the rules document; a number the document does not give keeps its
 * default, and the report says where every rule came from.
 */
export interface DisclosureRules {
  /** Where the rules were read from, for the report. */
  readonly source: string;
  /** A count cell based on fewer persons is primary-suppressed. */
  readonly minFrequency: number;
  /** A published zero is sensitive too (it says a whole group lacks something). */
  readonly zerosAreSensitive: boolean;
  /** A rate's numerator, denominator and complement must each reach these. */
  readonly rateNumerator: number;
  readonly rateDenominator: number;
  readonly rateComplement: number;
  /** A mean or other magnitude needs at least this many contributors. */
  readonly minContributors: number;
  /** (n,k) dominance: no n contributors may hold k or more of a magnitude total. */
  readonly dominanceN: number;
  readonly dominanceK: number;
  /** p% rule: the rest of the total must exceed p · the largest contribution. */
  readonly pPercent: number;
  /** The width a suppressed cell's feasible interval must reach. */
  readonly protectionLevel: number;
  /** How counts were rounded: 'base' (nearest multiple), 'redact-round' (OpenSAFELY: small counts redacted, the rest to base), 'midpoint6', or 'none'. */
  readonly roundingMethod: string;
  /** When cells are rounded: to this base (the attacker knows the true value within half of it). */
  readonly roundingBase: number;
  /** How far below and above a rounded value the true value can lie (OpenSAFELY midpoint-6: 3 stands for 1–6). */
  readonly roundingBelow: number;
  readonly roundingAbove: number;
  /** Under redact-round: counts up to this were redacted, so a published rounded count stands for more than it. */
  readonly redactAtMost: number;
}

export const DESIGN_DEFAULTS = {
  minFrequency: 10,
  dominanceN: 2,
  dominanceK: 0.9,
  pPercent: 0.1,
  roundingBase: 5,
} as const;

const RATE_MINIMUM = [
  'rates.minimum',
  'rates.min',
  'rates.threshold',
  'rates.minCount',
  'rates.minFrequency',
  'rate.threshold',
  'rate.min',
  'rateMinimum',
  'rateThreshold',
  'minRateCount',
];

const CANDIDATES: Record<
  keyof Omit<
    DisclosureRules,
    'source' | 'zerosAreSensitive' | 'roundingMethod' | 'roundingBelow' | 'roundingAbove' | 'redactAtMost'
  >,
  readonly string[]
> = {
  minFrequency: [
    'minFrequency',
    'frequency.minPersons',
    'frequency.threshold',
    'frequency.minFrequency',
    'frequency.min',
    'counts.minFrequency',
    'counts.threshold',
    'counts.min',
    'frequencyThreshold',
    'threshold',
    'minCount',
    'minPersons',
  ],
  rateNumerator: ['rates.minNumerator', 'rate.minNumerator', ...RATE_MINIMUM],
  rateDenominator: ['rates.minDenominator', 'rate.minDenominator', ...RATE_MINIMUM],
  rateComplement: ['rates.minComplement', 'rate.minComplement', ...RATE_MINIMUM],
  minContributors: ['magnitude.minContributors', 'minContributors', 'magnitude.minFrequency'],
  dominanceN: ['dominance.n', 'magnitude.dominance.n', 'magnitude.n', 'nk.n', 'dominanceN'],
  dominanceK: [
    'dominance.k',
    'dominance.kPercent',
    'magnitude.dominance.k',
    'magnitude.dominance.kPercent',
    'magnitude.k',
    'nk.k',
    'dominanceK',
  ],
  pPercent: ['pRule.p', 'pPercent.p', 'p.percent', 'magnitude.p', 'magnitude.pPercent', 'pPercent', 'pRatio', 'p'],
  protectionLevel: [
    'protectionLevel',
    'protection.level',
    'protection.width',
    'frequency.protectionLevel',
    'secondary.protectionLevel',
    'secondary.protection',
  ],
  roundingBase: ['rounding.base', 'roundingBase'],
};

export async function loadDisclosureRules(
  releaseManifests: readonly AuditedManifest[],
  workspaceRoot: string,
): Promise<DisclosureRules> {
  for (const manifest of releaseManifests) {
    const recorded = await recordedRules(manifest.parameters, workspaceRoot);
    if (recorded !== null) return rulesFrom(recorded.document, recorded.source);
  }
  const example = projectPath('examples', 'rules.json');
  const document = await readJson(example);
  if (document !== null) return rulesFrom(document, 'examples/rules.json (the release manifest records no rules)');
  return rulesFrom(
    {},
    'the defaults of docs/design.md, "Disclosure control" (no rules recorded in the release manifest and no examples/rules.json)',
  );
}

export function rulesFrom(document: unknown, source: string): DisclosureRules {
  const minFrequency = pick(document, CANDIDATES.minFrequency) ?? DESIGN_DEFAULTS.minFrequency;
  return {
    source,
    minFrequency,
    zerosAreSensitive: pickBoolean(document, ['frequency.zerosAreSensitive', 'zerosAreSensitive']) ?? false,
    rateNumerator: pick(document, CANDIDATES.rateNumerator) ?? minFrequency,
    rateDenominator: pick(document, CANDIDATES.rateDenominator) ?? minFrequency,
    rateComplement: pick(document, CANDIDATES.rateComplement) ?? minFrequency,
    minContributors: pick(document, CANDIDATES.minContributors) ?? minFrequency,
    dominanceN: pick(document, CANDIDATES.dominanceN) ?? DESIGN_DEFAULTS.dominanceN,
    dominanceK: asFraction(pick(document, CANDIDATES.dominanceK) ?? DESIGN_DEFAULTS.dominanceK),
    pPercent: asFraction(pick(document, CANDIDATES.pPercent) ?? DESIGN_DEFAULTS.pPercent),
    protectionLevel: pick(document, CANDIDATES.protectionLevel) ?? minFrequency,
    ...roundingOf(document),
  };
}

/**
 * The rounding rule as the release applied it (schemas/rules.ts): counts are
 * whole numbers rounded half up, so to an even base b a published r stands for
 * r − b/2 … r + b/2 − 1, to an odd base for r − ⌊b/2⌋ … r + ⌊b/2⌋.
 */
function roundingOf(
  document: unknown,
): Pick<DisclosureRules, 'roundingMethod' | 'roundingBase' | 'roundingBelow' | 'roundingAbove' | 'redactAtMost'> {
  const method = at(document, 'rounding.method');
  const roundingMethod = typeof method === 'string' ? method : 'none';
  if (roundingMethod === 'midpoint6')
    return { roundingMethod, roundingBase: 6, roundingBelow: 2, roundingAbove: 3, redactAtMost: 0 };
  const base = pick(document, CANDIDATES.roundingBase) ?? DESIGN_DEFAULTS.roundingBase;
  const half = Math.floor(base / 2);
  const redactAtMost = roundingMethod === 'redact-round' ? (pick(document, ['rounding.redactAtMost']) ?? 0) : 0;
  return {
    roundingMethod,
    roundingBase: base,
    roundingBelow: half,
    roundingAbove: base % 2 === 0 ? half - 1 : half,
    redactAtMost,
  };
}

/**
 * What the attacker knows of a count published rounded: the whole numbers
 * that round to it under the release's rule, as an interval. A rounded 0 under
 * midpoint-6 is a true 0; under redact-round a published count is never one of
 * the redacted small counts.
 */
export function roundedInterval(published: number, rules: DisclosureRules): { lower: number; upper: number } {
  if (rules.roundingMethod === 'midpoint6' && published === 0) return { lower: 0, upper: 0 };
  if (rules.roundingMethod === 'redact-round') {
    if (published === 0)
      return { lower: 0, upper: rules.redactAtMost >= rules.roundingBelow ? 0 : rules.roundingBelow };
    return {
      lower: Math.max(rules.redactAtMost + 1, published - rules.roundingBelow),
      upper: published + rules.roundingAbove,
    };
  }
  return { lower: Math.max(0, published - rules.roundingBelow), upper: published + rules.roundingAbove };
}

/** The rules the release says it applied: an embedded rules object, or a rules file it names. */
async function recordedRules(
  parameters: Record<string, unknown>,
  workspaceRoot: string,
): Promise<{ document: unknown; source: string } | null> {
  for (const name of ['rules', 'ruleSet', 'disclosureRules', 'rulesFile', 'rulesPath']) {
    const value = parameters[name];
    if (typeof value === 'object' && value !== null) {
      const inner = (value as Record<string, unknown>).document ?? (value as Record<string, unknown>).rules ?? value;
      if (Object.keys(CANDIDATES).some((k) => pick(inner, CANDIDATES[k as keyof typeof CANDIDATES]) !== undefined))
        return { document: inner, source: `the release manifest (parameters.${name})` };
      const path = (value as Record<string, unknown>).path ?? (value as Record<string, unknown>).file;
      if (typeof path === 'string') {
        const found = await readRulesFile(path, workspaceRoot);
        if (found !== null) return found;
      }
    }
    if (typeof value === 'string') {
      const found = await readRulesFile(value, workspaceRoot);
      if (found !== null) return found;
    }
  }
  return null;
}

async function readRulesFile(
  path: string,
  workspaceRoot: string,
): Promise<{ document: unknown; source: string } | null> {
  const tries = isAbsolute(path) ? [path] : [path, join(workspaceRoot, path), projectPath(path)];
  for (const candidate of tries) {
    const document = await readJson(candidate);
    if (document !== null) return { document, source: `${path} (named in the release manifest)` };
  }
  return null;
}

async function readJson(path: string): Promise<unknown> {
  try {
    await access(path);
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

function at(document: unknown, path: string): unknown {
  let value: unknown = document;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function pick(document: unknown, paths: readonly string[]): number | undefined {
  for (const path of paths) {
    const value = at(document, path);
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}

function pickBoolean(document: unknown, paths: readonly string[]): boolean | undefined {
  for (const path of paths) {
    const value = at(document, path);
    if (typeof value === 'boolean') return value;
  }
  return undefined;
}

/** 90 and 0.9 both mean 90%. */
function asFraction(value: number): number {
  return value > 1 ? value / 100 : value;
}
