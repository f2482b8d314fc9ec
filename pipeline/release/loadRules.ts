import { readFile } from 'node:fs/promises';
import { DataError, UsageError } from '../core/errors.js';
import { projectPath } from '../core/projectPath.js';
import { rulesSchema, type Rules } from '../../schemas/rules.js';

export const DEFAULT_RULES_FILE = projectPath('examples/rules.json');

/** The disclosure rules in force: `--rules FILE`, or the shipped defaults. */
export async function loadRules(file: string | undefined): Promise<{ rules: Rules; file: string }> {
  const path = file ?? DEFAULT_RULES_FILE;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`Rules file ${path} cannot be read.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw DataError.single('RULES_INVALID', { file: path, rule: 'rules.json', message: 'is not valid JSON' });
  }
  const result = rulesSchema.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ file: path, column: i.path.join('.'), rule: 'rules.format', message: i.message }));
    throw new DataError('RULES_INVALID', `${path} is not a valid rules file: ${issues.map((i) => `'${i.column}': ${i.message}`).join('; ')}`, issues);
  }
  return { rules: result.data, file: path };
}
