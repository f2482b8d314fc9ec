import { countProtectionLevel, type Rules } from '../../../schemas/rules.js';
import type { CountNature } from '../../../schemas/tables.js';
import type { PrimaryFinding } from './protect.js';

/**
 * The primary rules (docs/release.md, "Which cells are sensitive"; docs/design.md, "Disclosure control"): one
 * module that every table, the effects and `protect` judge their cells by.
 * A count is judged by what it says about the units it counts (its nature in
 * tables.json), a mean by its contributors.
 */

/** One count cell as the rules see it. */
export interface CountCell {
  readonly value: number;
  readonly nature: CountNature;
  /** Distinct persons behind the cell's row, where known: a count says no more than that many persons' worth. */
  readonly persons?: number;
  /** For an attribute: the value of its denominator in the same row. */
  readonly denominator?: number;
  /**
   * 'zero': the row's dimensions fix the cell at 0; 'copy': they fix it at
   * another column of its row. Either way anyone can work it out, so it is
   * no share that reveals a group.
   */
  readonly structural?: 'zero' | 'copy';
}

/** Whether a published count of zero units is sensitive in itself: only where the rules file says zeros are. */
export function zeroIsSensitive(cell: CountCell, rules: Rules): boolean {
  return cell.value === 0 && cell.structural !== 'zero' && rules.frequency.zerosAreSensitive;
}

/** The rule a count cell breaks, if any, and the protection it then needs. */
export function countFinding(cell: CountCell, rules: Rules): PrimaryFinding | undefined {
  if (cell.structural === 'zero') return undefined;
  const width = countProtectionLevel(rules);
  if (cell.value === 0 && zeroIsSensitive(cell, rules)) {
    return { rule: 'frequency.zero', reason: 'an empty cell, and zeros are sensitive', width, prefer: 'up' };
  }
  const persons = cell.persons === undefined ? cell.value : Math.min(cell.value, cell.persons);
  if (cell.value > 0 && persons < rules.frequency.minPersons) {
    return {
      rule: 'frequency',
      reason: `based on ${persons} persons, fewer than ${rules.frequency.minPersons}`,
      width,
      prefer: 'up',
    };
  }
  if (cell.nature === 'attribute' && cell.structural !== 'copy') return rateFinding(cell, rules);
  return undefined;
}

/**
 * A share that reveals a property of the person: numerator, denominator and
 * complement each at least their minimum, since 0% and 100% reveal a whole
 * group. A row without units (0 of 0) reveals nothing.
 */
function rateFinding(cell: CountCell, rules: Rules): PrimaryFinding | undefined {
  const width = countProtectionLevel(rules);
  const numerator = cell.value;
  const denominator = cell.denominator ?? 0;
  if (denominator === 0) return undefined;
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
      reason: `numerator ${numerator} below ${rules.rates.minNumerator}${numerator === 0 ? ' (0% of the group)' : ''}`,
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
      // The smallness is in the complement: there is room below the numerator, not above it.
      prefer: 'down',
    };
  }
  return undefined;
}

/**
 * A magnitude cell (mean of wages or hours), judged on its total:
 * contributors, (n,k) dominance, p% rule. A mean without contributors has no
 * value to hide: it is released as `empty`, never judged here.
 */
export function magnitudeFinding(
  contributors: number,
  sum: number,
  top1: number,
  top2: number,
  rules: Rules,
): PrimaryFinding | undefined {
  if (contributors === 0) return undefined;
  const m = rules.magnitude;
  const width = (m.protectionPercent / 100) * Math.abs(sum);
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
