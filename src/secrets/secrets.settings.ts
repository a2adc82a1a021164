import { IsString, Matches, ValidateIf } from 'class-validator';
import { Secret } from '../config/settings';

/** The service key (src/secrets): API token hashes, and whatever else needs a server-side secret. */
export class SecretsSettings {
  /** The service key, base64 of 32 random bytes (`openssl rand -base64 32`). Empty: the key is kept in SERVICE_KEY_FILE. */
  @Secret()
  @IsString()
  @ValidateIf((settings: SecretsSettings) => settings.SERVICE_KEY !== '')
  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'SERVICE_KEY must be the base64 of 32 random bytes, as `openssl rand -base64 32` prints' })
  SERVICE_KEY = '';

  /** The file holding the service key (32 bytes, mode 0600), created on first start. Empty: `service.key` in the folder of DATABASE_PATH. */
  @IsString()
  SERVICE_KEY_FILE = '';
}
