import type { Command } from 'commander';
import { z } from 'zod';
import { createKeyFile, LoadedKey } from '../../keys/keyFile.js';
import { keyRole } from '../../schemas/manifest.js';
import { parseCommandOptions } from '../core/commandOptions.js';
import { UsageError } from '../core/errors.js';
import { log } from '../core/log.js';

const newKeyOptions = z.object({
  role: keyRole,
  out: z.string().min(1),
  keyId: z.string().min(1).max(200).optional(),
});

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('Create and inspect key files (K_src for sources, K_ttp for the trusted third party).');
  keys
    .command('new')
    .description('Create a new key file with 32 random bytes, mode 0600.')
    .requiredOption('--role <role>', 'source or ttp')
    .requiredOption('--out <file>', 'key file to create (never overwritten)')
    .option('--key-id <id>', 'a label for the key, shown in manifests (default: <role>-<date>)')
    .action(async (raw: unknown) => {
      const options = parseCommandOptions(newKeyOptions, raw, (option, message) =>
        option === '--role' ? `--role must be 'source' or 'ttp'.` : `${option} is invalid: ${message}`,
      );
      const { role, out } = options;
      const keyId = options.keyId ?? `${role}-${new Date().toISOString().slice(0, 10)}`;
      const created = await createKeyFile(out, role, keyId);
      log().info({ file: out, role, keyId, fingerprint: created.fingerprint }, 'key created');
      process.stdout.write(
        `Created ${role} key '${keyId}' in ${out} (mode 0600), fingerprint ${created.fingerprint}\n`,
      );
    });
  keys
    .command('fingerprint')
    .description('Print the key fingerprint alone on stdout.')
    .argument('<file>', 'key file')
    .action(async (file: string) => {
      const key = await LoadedKey.load(file);
      process.stdout.write(`${key.fingerprint}\n`);
    });
  keys
    .command('check')
    .description('Check a key file: format, role and permissions.')
    .argument('<file>', 'key file')
    .option('--role <role>', 'also require this role (source or ttp)')
    .action(async (file: string, raw: { role?: string }) => {
      let expected: z.infer<typeof keyRole> | undefined;
      if (raw.role !== undefined) {
        const role = keyRole.safeParse(raw.role);
        if (!role.success) throw new UsageError(`--role must be 'source' or 'ttp'.`);
        expected = role.data;
      }
      const key = await LoadedKey.load(file, expected);
      process.stdout.write(
        `${file}: ok — format boldlink-key/v1, role ${key.role}, key id '${key.keyId}', permissions owner-only, fingerprint ${key.fingerprint}\n`,
      );
    });
}
