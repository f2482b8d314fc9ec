import { rulesSchema, type Rules } from '../../schemas/rules.js';
import { UsageError } from '../core/errors.js';
import { readJsonFile } from '../core/jsonFile.js';
import { projectPath } from '../core/projectPath.js';

export const DEFAULT_RULES_FILE = projectPath('examples/rules.json');

/** The disclosure rules in force: `--rules FILE`, or the shipped defaults. */
export async function loadRules(file: string | undefined): Promise<{ rules: Rules; file: string }> {
  const path = file ?? DEFAULT_RULES_FILE;
  const rules = await readJsonFile(path, rulesSchema, {
    code: 'RULES_INVALID',
    rule: 'rules',
    what: 'rules file',
    hint: 'see examples/rules.json',
    // A --rules path that is not there is a mistyped option, not bad data.
    unreadable: (missing) => new UsageError(`Rules file ${missing} cannot be read.`),
  });
  return { rules, file: path };
}
