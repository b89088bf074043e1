/**
 * googleapis clients authenticated exactly as against Google (google-auth-library's JWT client for a
 * service account with domain-wide delegation), pointed at an emulator: the token request that
 * google-auth-library sends to Google's token URL goes to `tokenUrl` instead, API calls to `rootUrl`.
 * For the emulator's own tests (which must not use the product's client code).
 */
import { JWT } from 'google-auth-library';
import { admin_directory_v1 } from 'googleapis/build/src/apis/admin/directory_v1.js';
import { calendar_v3 } from 'googleapis/build/src/apis/calendar/v3.js';
import { drive_v3 } from 'googleapis/build/src/apis/drive/v3.js';
import { gmail_v1 } from 'googleapis/build/src/apis/gmail/v1.js';

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export interface EmulatorLike {
  rootUrl: string;
  tokenUrl: string;
  credentials: { serviceAccount: { client_email: string; private_key: string } };
}

export const FULL_SCOPES = [
  'https://mail.google.com/',
  'https://www.googleapis.com/auth/drive',
  'https://www.googleapis.com/auth/calendar',
  'https://www.googleapis.com/auth/admin.directory.user',
  'https://www.googleapis.com/auth/admin.directory.group',
];

export function jwtFor(emu: EmulatorLike, subject: string, scopes: string[] = FULL_SCOPES): JWT {
  const sa = emu.credentials.serviceAccount;
  const jwt = new JWT({ email: sa.client_email, key: sa.private_key, subject, scopes });
  jwt.transporter.interceptors.request.add({
    resolved: async (cfg) => {
      if (String(cfg.url) === GOOGLE_TOKEN_URL) cfg.url = new URL(emu.tokenUrl);
      return cfg;
    },
  });
  return jwt;
}

export function clientsFor(emu: EmulatorLike, subject: string, scopes?: string[]) {
  const auth = jwtFor(emu, subject, scopes);
  const opts = { auth, rootUrl: emu.rootUrl, retry: false };
  return {
    auth,
    gmail: new gmail_v1.Gmail(opts),
    drive: new drive_v3.Drive(opts),
    calendar: new calendar_v3.Calendar(opts),
    admin: new admin_directory_v1.Admin(opts),
    /** Per-call options every upload needs: googleapis builds upload URLs from the per-call rootUrl only. */
    upload: { rootUrl: emu.rootUrl },
  };
}
