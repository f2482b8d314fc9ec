import { readFile } from 'node:fs/promises';
import { catalogue as catalogueSchema, TABLE_NAME_PATTERN, type CatalogueColumn } from '../../schemas/api.js';
import { StageInput } from '../core/stageInput.js';
import { ReleaseBundleError } from './errors.js';

/** One released table as the catalogue and the manifest describe it. */
export interface ReleasedTable {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly parquetPath: string;
  readonly rows: number | null;
  readonly catalogueColumns: readonly CatalogueColumn[];
}

/**
 * A release bundle opened for researchers: only through StageInput, so a
 * bundle whose files were changed, added or removed after the release stage
 * ran is refused before anything is served.
 */
export class ReleaseBundle {
  private constructor(
    readonly dir: string,
    readonly tables: readonly ReleasedTable[],
  ) {}

  static async open(dir: string): Promise<ReleaseBundle> {
    const input = await StageInput.open(dir, { stage: 'release' });
    if (!input.has('tables.json')) {
      throw new ReleaseBundleError(
        'RELEASE_CATALOGUE',
        `${input.dir} has no tables.json catalogue; it is not a complete release bundle. Rerun 'boldlink release'.`,
      );
    }
    const cataloguePath = input.path('tables.json');
    let json: unknown;
    try {
      json = JSON.parse(await readFile(cataloguePath, 'utf8'));
    } catch {
      throw new ReleaseBundleError('RELEASE_CATALOGUE', `${cataloguePath} is not valid JSON.`);
    }
    const parsed = catalogueSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ReleaseBundleError(
        'RELEASE_CATALOGUE',
        `${cataloguePath} does not follow the catalogue format at '${issue?.path.join('.') ?? ''}': ${issue?.message ?? 'invalid'}.`,
      );
    }
    const tables: ReleasedTable[] = [];
    const seen = new Set<string>();
    for (const entry of parsed.data.tables) {
      const file = `tables/${entry.name}.parquet`;
      if (!input.has(file)) {
        throw new ReleaseBundleError(
          'RELEASE_TABLE',
          `${cataloguePath} lists table '${entry.name}' but ${file} is not in the bundle's manifest.`,
        );
      }
      if (seen.has(entry.name))
        throw new ReleaseBundleError('RELEASE_CATALOGUE', `${cataloguePath} lists table '${entry.name}' twice.`);
      seen.add(entry.name);
      tables.push({
        name: entry.name,
        title: entry.title ?? entry.name,
        description: entry.description ?? '',
        parquetPath: input.path(file),
        rows: input.rows(file),
        catalogueColumns: entry.columns ?? [],
      });
    }
    // A table file the catalogue forgot is still released data: serve it, untitled.
    for (const file of input.manifest.outputs) {
      const match = /^tables\/([^/]+)\.parquet$/.exec(file.path);
      const name = match?.[1];
      if (name === undefined || seen.has(name) || !TABLE_NAME_PATTERN.test(name)) continue;
      seen.add(name);
      tables.push({
        name,
        title: name,
        description: '',
        parquetPath: input.path(file.path),
        rows: file.rows,
        catalogueColumns: [],
      });
    }
    return new ReleaseBundle(input.dir, tables);
  }
}
