import { projectPath } from '../core/projectPath.js';
import { type DemoWorkspace, HOLDER_SOURCE, MUNICIPALITIES } from './workspace.js';

/** What `boldlink demo` runs when given no options. */
export const DEMO_DEFAULTS = { scale: 'small', seed: 20260101, project: 'bold-participatiewet' } as const;

export type DemoScale = 'tiny' | 'small' | 'city' | 'national';

/** One step of the chain: its label and the `boldlink` arguments the role that owns it runs. */
export interface ChainStep {
  readonly label: string;
  readonly args: string[];
}

/**
 * The demo's chain of commands over one workspace, each with the options a role would give it. The demo runs
 * them; `npm run digests` runs the same steps with fixed keys, so its digests are those of the demo's outputs.
 */
export class DemoChain {
  constructor(
    readonly ws: DemoWorkspace,
    readonly options: { readonly scale: DemoScale; readonly seed: number; readonly project: string },
  ) {}

  generate(): ChainStep {
    const { scale, seed } = this.options;
    return {
      label: `generate (${scale})`,
      args: ['generate', '--scale', scale, '--seed', String(seed), '--out', this.ws.raw],
    };
  }

  sourceKey(): ChainStep {
    return {
      label: 'keys new (source, K_src)',
      args: ['keys', 'new', '--role', 'source', '--key-id', 'demo-src', '--out', this.ws.sourceKey],
    };
  }

  ttpKey(): ChainStep {
    return {
      label: 'keys new (trusted third party)',
      args: ['keys', 'new', '--role', 'ttp', '--key-id', 'demo-ttp', '--out', this.ws.ttpKey],
    };
  }

  /** One step per source: the four gemeenten with their mapping file, then the holder (canonical columns). */
  pseudonymize(): ChainStep[] {
    const mapping = projectPath('examples/mappings/gemeente.json');
    const key = this.ws.sourceKey;
    return [
      ...MUNICIPALITIES.map((m) => ({
        label: `pseudonymize ${m}`,
        args: [
          'pseudonymize',
          '--key',
          key,
          '--source',
          m,
          '--mapping',
          mapping,
          '--input',
          ...this.ws.municipalExports(m),
          '--out',
          this.ws.pseudonymized(m),
        ],
      })),
      {
        label: `pseudonymize ${HOLDER_SOURCE} (microdata)`,
        args: [
          'pseudonymize',
          '--key',
          key,
          '--source',
          HOLDER_SOURCE,
          '--input',
          ...this.ws.holderFiles(),
          '--out',
          this.ws.pseudonymized(HOLDER_SOURCE),
        ],
      },
    ];
  }

  link(): ChainStep {
    return {
      label: 'link (trusted third party)',
      args: [
        'link',
        '--key',
        this.ws.ttpKey,
        '--project',
        this.options.project,
        '--input',
        ...MUNICIPALITIES.map((m) => this.ws.pseudonymized(m)),
        this.ws.pseudonymized(HOLDER_SOURCE),
        '--out',
        this.ws.linked,
      ],
    };
  }

  metrics(): ChainStep {
    return {
      label: 'metrics (secure environment)',
      args: ['metrics', '--input', this.ws.linked, '--out', this.ws.metrics],
    };
  }

  release(): ChainStep {
    return {
      label: 'release (disclosure control)',
      args: ['release', '--input', this.ws.metrics, '--out', this.ws.release],
    };
  }

  audit(): ChainStep {
    return {
      label: 'audit (privacy officer)',
      args: ['audit', '--workspace', this.ws.workspace, '--keys', this.ws.keysDir, '--format', 'html'],
    };
  }
}
