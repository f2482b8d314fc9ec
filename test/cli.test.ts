import { describe, expect, it } from 'vitest';
import { runBoldlink } from './support/cli.js';

const SUBCOMMANDS = [
  'generate',
  'keys',
  'pseudonymize',
  'link',
  'metrics',
  'release',
  'protect',
  'audit',
  'query',
  'tokens',
  'serve',
  'demo',
];

describe('the boldlink command line', () => {
  it('--help lists every subcommand of docs/design.md', async () => {
    const result = await runBoldlink(['--help']);
    expect(result.code).toBe(0);
    for (const name of SUBCOMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  it.each(SUBCOMMANDS)('%s --help describes its options and exits 0', async (name) => {
    const result = await runBoldlink([name, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: boldlink ${name}`);
  });

  it('exits 2 on a usage error: an unknown subcommand or option, or a missing required option', async () => {
    expect((await runBoldlink(['frobnicate'])).code).toBe(2);
    expect((await runBoldlink(['metrics', '--input', 'x', '--out', 'y', '--no-such-option'])).code).toBe(2);
    const missing = await runBoldlink(['link', '--project', 'p']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option/);
  });

  it('with no arguments shows help and exits 2', async () => {
    const result = await runBoldlink([]);
    expect(result.code).toBe(2);
  });
});
