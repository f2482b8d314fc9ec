/**
 * A child process for the crash tests: writes a stage output in many small
 * steps, printing 'step N' after each, so the test can SIGKILL it anywhere,
 * including during commit. Usage: node writeStageSlowly.js OUT_DIR LABEL STEPS
 */
import { appendFile, writeFile } from 'node:fs/promises';
import { StageOutput } from '../../pipeline/core/stageOutput.js';

const [outDir, label = 'run', stepsText = '50'] = process.argv.slice(2);
if (outDir === undefined) throw new Error('usage: writeStageSlowly OUT_DIR LABEL STEPS');
const steps = Number(stepsText);
const output = await StageOutput.create({ stage: 'metrics', outDir, parameters: { label } });
const data = await output.file('data.csv');
await writeFile(data, 'step,label\n');
for (let step = 1; step <= steps; step++) {
  await appendFile(data, `${step},${label}\n`);
  await writeFile(await output.file(`part-${String(step).padStart(3, '0')}.txt`), `${label} ${step}\n`);
  process.stdout.write(`step ${step}\n`);
  await new Promise((resolve) => setTimeout(resolve, 2));
}
process.stdout.write('committing\n');
await output.commit();
process.stdout.write('committed\n');
