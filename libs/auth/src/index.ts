export { ApiKeyRegistry, AuthErrorCodes, apiKeys, DEV_API_KEYS, parseApiKeys, type ApiKeyEntry } from './api-keys';
