import type { KeyRole } from '../../schemas/manifest.js';
import { finding, type CheckResult, type Finding } from './finding.js';
import { readKeyFolder, type AuditedKeyFile } from './keyFiles.js';
import { MANIFEST_NAME, workspaceFile, type StageDir, type Workspace } from './workspace.js';

/**
 * Key separation (docs/design.md, "Roles and where each runs"): the source key K_src is used only at
 * the sources (pseudonymize), the TTP key only at the TTP (link). Later
 * stages may name a key as `inherited`: the fingerprint their input was made
 * with, as provenance — not a key they held — and it must be a key the run
 * really used in that role. All sources must share one K_src. With the key
 * files at hand, their roles, permissions and fingerprints must agree with the
 * manifests, and no two roles may share a key.
 */

/** Where a stage may hold a key of a role for its own use. */
const OWN_USE: Record<KeyRole, string> = { source: 'pseudonymize', ttp: 'link' };
/** Stages downstream of the keys, which may record a key's fingerprint as `inherited` provenance. */
const INHERITS: ReadonlySet<string> = new Set(['link', 'metrics', 'release', 'protect']);

export interface KeyUse {
  readonly dir: string;
  readonly stage: string;
  readonly use: string;
  readonly keyId: string;
  /** The files this stage directory holds (made with the key, or carrying its provenance). */
  readonly files: readonly string[];
}

/** The key-separation picture: which role held which fingerprint, and what was made with it. */
export interface KeyPictureEntry {
  readonly role: KeyRole;
  readonly fingerprint: string;
  readonly uses: readonly KeyUse[];
  readonly keyFiles: readonly { readonly file: string; readonly role: KeyRole; readonly mode: string }[];
}

export interface KeySeparationResult extends CheckResult {
  readonly picture: readonly KeyPictureEntry[];
}

export async function checkKeySeparation(workspace: Workspace, keysDir?: string): Promise<KeySeparationResult> {
  const findings: Finding[] = [];
  const withManifest = workspace.stageDirs.filter(
    (d): d is StageDir & { manifest: NonNullable<StageDir['manifest']> } => d.manifest !== null,
  );

  for (const dir of withManifest) findings.push(...stageKeyFindings(dir));

  // All sources pseudonymized with one K_src.
  const sourceKeyOf = new Map<StageDir, string>();
  for (const dir of withManifest.filter((d) => d.stage === 'pseudonymize')) {
    const own = dir.manifest.keys.find((k) => k.role === 'source' && k.use !== 'inherited');
    if (own !== undefined) sourceKeyOf.set(dir, own.fingerprint);
  }
  const bySourceKey = groupBy([...sourceKeyOf], ([, fp]) => fp);
  if (bySourceKey.size > 1) {
    const [reference] = [...bySourceKey].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
    for (const [fp, dirs] of bySourceKey) {
      if (fp === reference) continue;
      for (const [dir] of dirs) {
        findings.push(
          finding(
            'keys',
            'keys.sources-differ',
            workspaceFile(dir, MANIFEST_NAME),
            `Source '${sourceName(dir)}' was pseudonymized with source key ${fp}, while ${bySourceKey.get(reference ?? '')?.length ?? 0} other source output(s) used ${reference}: all sources must use the same K_src or their pseudonyms cannot be linked.`,
          ),
        );
      }
    }
  }

  // A fingerprint held in one role must never turn up in the other.
  const ownFingerprints: Record<KeyRole, Set<string>> = { source: new Set(), ttp: new Set() };
  for (const dir of withManifest)
    for (const k of dir.manifest.keys) if (k.use !== 'inherited') ownFingerprints[k.role].add(k.fingerprint);
  for (const dir of withManifest) {
    for (const k of dir.manifest.keys) {
      if (dir.stage === 'pseudonymize' && k.role === 'source' && ownFingerprints.ttp.has(k.fingerprint)) {
        findings.push(
          finding(
            'keys',
            'keys.ttp-at-source',
            workspaceFile(dir, MANIFEST_NAME),
            `Source '${sourceName(dir)}' pseudonymized with key ${k.fingerprint}, which is the TTP's key elsewhere in this run: the TTP key was used at a source.`,
          ),
        );
      }
      if (dir.stage === 'link' && k.role === 'ttp' && ownFingerprints.source.has(k.fingerprint)) {
        findings.push(
          finding(
            'keys',
            'keys.source-at-ttp',
            workspaceFile(dir, MANIFEST_NAME),
            `The link used TTP key ${k.fingerprint}, which is a source key elsewhere in this run: K_src and K_ttp must be different keys.`,
          ),
        );
      }
    }
  }

  // A key recorded as inherited (provenance: the fingerprint an input was made with) must be one the run really used in that role.
  for (const dir of withManifest) {
    for (const k of dir.manifest.keys.filter((key) => key.use === 'inherited')) {
      const producers = withManifest.some((d) => d.stage === OWN_USE[k.role]);
      if (producers && !ownFingerprints[k.role].has(k.fingerprint)) {
        findings.push(
          finding(
            'keys',
            'keys.inherited-mismatch',
            workspaceFile(dir, MANIFEST_NAME),
            `Records ${k.role} key ${k.fingerprint} as inherited, but no ${OWN_USE[k.role]} output in the workspace was made with it.`,
          ),
        );
      }
    }
  }

  const keyFiles = keysDir === undefined ? [] : await readKeyFolder(keysDir);
  if (keysDir !== undefined) findings.push(...keyFileFindings(keyFiles, withManifest));

  const picture = buildPicture(withManifest, keyFiles);
  const covered = [
    `${withManifest.reduce((n, d) => n + d.manifest.keys.length, 0)} key records in ${withManifest.length} manifests`,
    `${picture.length} distinct key fingerprints`,
  ];
  if (keysDir !== undefined) covered.push(`${keyFiles.length} key files read from the keys folder`);
  else covered.push('no keys folder given: key files, their permissions and fingerprints were not checked');
  return { findings, picture, summary: { check: 'keys', title: 'Key separation', covered } };
}

function stageKeyFindings(dir: StageDir & { manifest: NonNullable<StageDir['manifest']> }): Finding[] {
  const where = workspaceFile(dir, MANIFEST_NAME);
  const found: Finding[] = [];
  const keys = dir.manifest.keys;
  const own = keys.filter((k) => k.use !== 'inherited');
  for (const k of keys) {
    if (dir.stage === 'pseudonymize' && k.role === 'ttp') {
      found.push(
        finding(
          'keys',
          'keys.ttp-at-source',
          where,
          `Source '${sourceName(dir)}' records TTP key ${k.fingerprint} (use '${k.use}'): a source must never hold K_ttp.`,
        ),
      );
    } else if (dir.stage === 'link' && k.role === 'source' && k.use !== 'inherited') {
      found.push(
        finding(
          'keys',
          'keys.source-at-ttp',
          where,
          `The link records source key ${k.fingerprint} for its own use ('${k.use}'): the TTP must never hold K_src.`,
        ),
      );
    } else if (k.use === 'inherited' && dir.stage !== null && INHERITS.has(dir.stage)) {
      // Provenance only: later stages name the fingerprints their inputs were made with, never the keys themselves.
    } else if (dir.stage !== OWN_USE[k.role]) {
      const rule = k.role === 'source' ? 'keys.source-key-outside-source' : 'keys.ttp-key-outside-ttp';
      found.push(
        finding(
          'keys',
          rule,
          where,
          `This ${dir.stage ?? 'unknown'} output records the ${k.role} key ${k.fingerprint} (use '${k.use}'); that key belongs only in ${OWN_USE[k.role]} outputs.`,
        ),
      );
    }
  }
  const ownRoles = new Set(own.map((k) => k.role));
  if (ownRoles.size > 1)
    found.push(
      finding(
        'keys',
        'keys.both-roles',
        where,
        `This ${dir.stage ?? 'unknown'} stage used both a source key and a TTP key itself: one party held both keys.`,
      ),
    );
  if (dir.stage === 'pseudonymize' && !own.some((k) => k.role === 'source')) {
    found.push(
      finding(
        'keys',
        'keys.missing-key',
        where,
        'This source output records no source key: it cannot be shown which key made its pseudonyms.',
      ),
    );
  }
  if (dir.stage === 'link' && !own.some((k) => k.role === 'ttp')) {
    found.push(
      finding(
        'keys',
        'keys.missing-key',
        where,
        'This link output records no TTP key: it cannot be shown which key made its RIDs.',
      ),
    );
  }
  return found;
}

function keyFileFindings(
  keyFiles: readonly AuditedKeyFile[],
  dirs: readonly (StageDir & { manifest: NonNullable<StageDir['manifest']> })[],
): Finding[] {
  const found: Finding[] = [];
  const where = (f: AuditedKeyFile) => `keys:${f.file}`;
  for (const f of keyFiles) {
    if ((f.mode & 0o077) !== 0) {
      found.push(
        finding(
          'keys',
          'keys.file-permissions',
          where(f),
          `Key file has permissions ${f.mode.toString(8).padStart(3, '0')}: readable or writable by group or others. It must be 0600 (chmod 600); treat the key as exposed.`,
        ),
      );
    }
    if (f.problem !== null)
      found.push(finding('keys', 'keys.file-invalid', where(f), `Not a valid key file: ${f.problem}.`));
  }
  const parsed = keyFiles.filter(
    (f): f is AuditedKeyFile & { parsed: NonNullable<AuditedKeyFile['parsed']> } => f.parsed !== null,
  );
  for (const [fp, files] of groupBy(parsed, (f) => f.parsed.fingerprint)) {
    const roles = new Set(files.map((f) => f.parsed.role));
    if (roles.size > 1) {
      found.push(
        finding(
          'keys',
          'keys.shared-key',
          `keys:${files.map((f) => f.file).join(', ')}`,
          `The same key (fingerprint ${fp}) is held as both a source and a TTP key.`,
          { count: files.length },
        ),
      );
    }
  }
  const byFingerprint = new Map(parsed.map((f) => [f.parsed.fingerprint, f]));
  for (const dir of dirs) {
    for (const k of dir.manifest.keys) {
      const file = byFingerprint.get(k.fingerprint);
      const manifestFile = workspaceFile(dir, MANIFEST_NAME);
      if (file === undefined) {
        found.push(
          finding(
            'keys',
            'keys.no-key-file',
            manifestFile,
            `Records ${k.role} key ${k.fingerprint}, but no key file in the keys folder has that fingerprint.`,
          ),
        );
      } else if (file.parsed.role !== k.role) {
        found.push(
          finding(
            'keys',
            'keys.file-role-mismatch',
            manifestFile,
            `Records key ${k.fingerprint} as a ${k.role} key, but key file ${file.file} holds it as a ${file.parsed.role} key.`,
          ),
        );
      } else if (file.parsed.keyId !== k.keyId) {
        found.push(
          finding(
            'keys',
            'keys.key-id-mismatch',
            manifestFile,
            `Records key ${k.fingerprint} with key id '${k.keyId}', but key file ${file.file} calls it '${file.parsed.keyId}'.`,
          ),
        );
      }
    }
  }
  return found;
}

function buildPicture(
  dirs: readonly (StageDir & { manifest: NonNullable<StageDir['manifest']> })[],
  keyFiles: readonly AuditedKeyFile[],
): KeyPictureEntry[] {
  const entries = new Map<
    string,
    { role: KeyRole; fingerprint: string; uses: KeyUse[]; keyFiles: { file: string; role: KeyRole; mode: string }[] }
  >();
  const entry = (role: KeyRole, fingerprint: string) => {
    const id = `${role}:${fingerprint}`;
    let e = entries.get(id);
    if (e === undefined) {
      e = { role, fingerprint, uses: [], keyFiles: [] };
      entries.set(id, e);
    }
    return e;
  };
  for (const dir of dirs) {
    for (const k of dir.manifest.keys) {
      entry(k.role, k.fingerprint).uses.push({
        dir: dir.relDir,
        stage: dir.stage ?? 'unknown',
        use: k.use,
        keyId: k.keyId,
        files: dir.manifest.outputs.map((o) => o.path),
      });
    }
  }
  for (const f of keyFiles) {
    if (f.parsed === null) continue;
    const fileEntry = { file: f.file, role: f.parsed.role, mode: f.mode.toString(8).padStart(3, '0') };
    // Shown under every role the key was recorded in, so a key used in the wrong role points at its file.
    const recorded = [...entries.values()].filter((e) => e.fingerprint === f.parsed?.fingerprint);
    if (recorded.length === 0) entry(f.parsed.role, f.parsed.fingerprint).keyFiles.push(fileEntry);
    for (const e of recorded) e.keyFiles.push(fileEntry);
  }
  return [...entries.values()].sort(
    (a, b) => a.role.localeCompare(b.role) || a.fingerprint.localeCompare(b.fingerprint),
  );
}

function sourceName(dir: StageDir): string {
  const source = dir.manifest?.parameters.source;
  return typeof source === 'string' ? source : dir.relDir;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list === undefined) groups.set(k, [item]);
    else list.push(item);
  }
  return groups;
}
