/**
 * npm run -w @tollgate/auth rotate-keys
 * Development: adds a new signing key to KEYS_DIR (keeping the previous ones
 * so outstanding tokens still verify). Production: prints a new private JWK
 * to append to JWT_SIGNING_KEYS.
 */
import { loadConfig } from '../config.js';
import { addDevKey, generatePrivateJwk } from '../domain/tokens/signing-keys.js';

const config = loadConfig();
if (config.jwt.signingKeys) {
  console.log(JSON.stringify(await generatePrivateJwk()));
  console.error(
    'append this key to the end of the JWT_SIGNING_KEYS array and restart; drop the oldest key after 15 minutes',
  );
} else {
  const jwk = await addDevKey(config.jwt.keysDir);
  console.log(`added signing key ${jwk.kid} to ${config.jwt.keysDir}; restart the service to sign with it`);
}
