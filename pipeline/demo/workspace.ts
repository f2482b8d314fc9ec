import { join, resolve } from 'node:path';

export const MUNICIPALITIES = ['rotterdam', 'amsterdam', 'utrecht', 'den_haag'] as const;
export const HOLDER_SOURCE = 'cbs';

/**
 * Where the demo puts each role's material. Keys live apart from the data they
 * protect; each role's outputs sit in its own folder, as they would sit on
 * different organisations' machines. The privacy officer audits `workspace/`.
 */
export class DemoWorkspace {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }
  /** Raw exports and ground truth from `generate`: the sources' own systems. */
  get raw(): string {
    return join(this.root, 'raw');
  }
  get sourceKey(): string {
    return join(this.root, 'keys', 'source', 'k_src.key');
  }
  get ttpKey(): string {
    return join(this.root, 'keys', 'ttp', 'k_ttp.key');
  }
  get keysDir(): string {
    return join(this.root, 'keys');
  }
  get workspace(): string {
    return join(this.root, 'workspace');
  }
  pseudonymized(source: string): string {
    return join(this.workspace, 'sources', source, 'pseudonymized');
  }
  get linked(): string {
    return join(this.workspace, 'ttp', 'linked');
  }
  get metrics(): string {
    return join(this.workspace, 'secure', 'metrics');
  }
  get release(): string {
    return join(this.workspace, 'release');
  }
  get auditReport(): string {
    return join(this.root, 'audit-report.html');
  }
  municipalExports(municipality: string): string[] {
    return ['clienten.csv', 'uitkeringen.csv', 'trajecten.csv'].map((f) => join(this.raw, 'gemeente', municipality, f));
  }
  holderFiles(): string[] {
    return ['persons.parquet', 'jobs.parquet'].map((f) => join(this.raw, 'microdata', f));
  }
}
