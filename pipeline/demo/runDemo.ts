import { mkdir, rm, writeFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import { dirname } from 'node:path';
import { type ChainStep, DemoChain, type DemoScale } from './demoChain.js';
import { headlineFigures, type Headline } from './headline.js';
import { runStage } from './stageRunner.js';
import { DemoWorkspace } from './workspace.js';

export interface DemoOptions {
  readonly scale: DemoScale;
  readonly out: string;
  readonly seed: number;
  readonly project: string;
}

export interface DemoResult {
  readonly workspace: DemoWorkspace;
  readonly steps: readonly { label: string; seconds: number }[];
  readonly headline: Headline;
  readonly auditPassed: boolean;
  readonly seconds: number;
}

/**
 * The whole chain on generated data: each role's step as its own process,
 * each role's key in its own folder, in the order of docs/design.md ("Stages and their outputs").
 */
export async function runDemo(options: DemoOptions, say: (line: string) => void): Promise<DemoResult> {
  const started = process.hrtime.bigint();
  const ws = new DemoWorkspace(options.out);
  // A demo run starts clean: old keys must not be reused with new data.
  await rm(ws.root, { recursive: true, force: true });
  await mkdir(dirname(ws.sourceKey), { recursive: true, mode: 0o700 });
  await mkdir(dirname(ws.ttpKey), { recursive: true, mode: 0o700 });

  const steps: { label: string; seconds: number }[] = [];
  const step = async ({ label, args }: ChainStep, acceptFindings = false) => {
    const run = await runStage(label, args, { acceptFindings });
    steps.push({ label, seconds: run.seconds });
    say(`  ✓ ${label.padEnd(34)} ${run.seconds.toFixed(1).padStart(6)} s`);
    return run;
  };
  const chain = new DemoChain(ws, options);

  say(`boldlink demo — ${options.scale} scale, seed ${options.seed}, workspace ${ws.root}`);
  // The keys do not depend on the data: each role makes its own while the sources' data is generated.
  await Promise.all([
    step(chain.generate()),
    (async () => {
      await step(chain.sourceKey());
      await step(chain.ttpKey());
    })(),
  ]);
  // Two at a time: one per core; each source is its own organisation anyway.
  const twoAtATime = pLimit(2);
  await Promise.all(chain.pseudonymize().map((s) => twoAtATime(() => step(s))));
  await step(chain.link());
  await step(chain.metrics());
  await step(chain.release());
  const audit = await step(chain.audit(), true);
  await writeFile(ws.auditReport, audit.stdout);

  const headline = await headlineFigures(ws);
  return {
    workspace: ws,
    steps,
    headline,
    auditPassed: audit.exitCode === 0,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}
