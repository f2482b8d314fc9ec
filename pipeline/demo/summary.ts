import { describeUtility, publishedShare } from '../release/releaseUtility.js';
import type { ReleasedValue, YearHeadline } from './headline.js';
import type { DemoResult } from './runDemo.js';

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

function count(v: ReleasedValue): string {
  return v.value === null ? v.status : String(v.value);
}

/** A share of two released counts; unknown when either was suppressed. */
function share(numerator: ReleasedValue, denominator: ReleasedValue): string {
  if (numerator.value === null || denominator.value === null) return 'suppressed';
  return denominator.value === 0 ? '–' : percent(numerator.value / denominator.value);
}

/** The demo's closing summary: what a newcomer needs to see, from released material only. */
export function printSummary(result: DemoResult, say: (line: string) => void): void {
  const { headline, workspace } = result;
  say('');
  say(`Linkage (trusted third party): ${headline.linkedPersons} persons linked; benefit records with a linked person:`);
  for (const s of headline.linkage)
    say(
      `  ${s.source.padEnd(10)} ${String(s.linked).padStart(7)} of ${String(s.records).padStart(7)}  ${percent(s.share).padStart(6)}`,
    );
  say('');
  say('Outflow by year, as released (after disclosure control):');
  say('  year    outflows   to work   durable (of uncensored)');
  const line = (y: YearHeadline, label = y.year) =>
    say(
      `  ${label.padEnd(6)} ${count(y.outflows).padStart(9)}  ${share(y.toWork, y.outflows).padStart(8)}  ${share(y.durable, y.uncensored).padStart(8)}`,
    );
  for (const y of headline.byYear) line(y);
  if (headline.allYears !== null) line(headline.allYears, 'all');
  say('');
  say(`Disclosure control: ${describeUtility(headline.utility.overall)}.`);
  say('  table                                  published  suppressed  margins 100+ suppressed  persons suppressed');
  for (const [name, u] of Object.entries(headline.utility.tables))
    say(
      `  ${name.padEnd(38)} ${percent(publishedShare(u)).padStart(9)}  ${String(u.suppressed).padStart(10)}  ${`${u.largeMarginSuppressed} of ${u.largeMarginValues}`.padStart(23)}  ${(u.personsTotal === 0 ? '' : percent(u.personsSuppressed / u.personsTotal)).padStart(18)}`,
    );
  say(
    `Audit verdict: ${result.auditPassed ? 'PASS — keys separated, no identifier leaked, release protected' : 'FAIL — see the audit report'}`,
  );
  say('');
  say(`Release bundle:  ${workspace.release}`);
  say(`HTML report:     ${workspace.release}/report.html`);
  say(`Audit report:    ${workspace.auditReport}`);
  say(`Done in ${result.seconds.toFixed(1)} s.`);
}
