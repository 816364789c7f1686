import { ConfigError, EX_CONFIG } from '@tessera/config';
import { loadPiiKeyring } from './pii-keyring';
import { PiiVault } from './pii-vault';

/** Nest provider of {@link PiiVault}: a bad or missing key stops the boot with a message naming the variable. */
export const piiVaultProvider = {
  provide: PiiVault,
  useFactory: (): PiiVault => {
    try {
      return new PiiVault(loadPiiKeyring(process.env));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${err.message}\n`);
      return process.exit(EX_CONFIG);
    }
  },
};
