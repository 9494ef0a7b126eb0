export const CHANNELS = [
  'facebook',
  'instagram',
  'whatsapp',
  'tiktok',
  'youtube',
  'x',
  'linkedin',
  'google',
  'email',
  'sms',
  'direct',
  'referral',
  'other',
] as const;
export type Channel = (typeof CHANNELS)[number];

/** Where a visit came from, as the page saw it. Every field optional: a bare visit is "direct". */
export interface TouchContext {
  url?: string;
  referrer?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_term?: string;
  utm_content?: string;
  fbclid?: string;
  gclid?: string;
  ttclid?: string;
}

export interface Touch extends TouchContext {
  channel: Channel;
  at: string;
}

// utm_source values people actually type, lowercased.
const SOURCE_ALIASES: Record<string, Channel> = {
  facebook: 'facebook', fb: 'facebook', meta: 'facebook', 'facebook.com': 'facebook', messenger: 'facebook',
  instagram: 'instagram', ig: 'instagram', 'instagram.com': 'instagram', insta: 'instagram',
  whatsapp: 'whatsapp', wa: 'whatsapp', 'wa.me': 'whatsapp',
  tiktok: 'tiktok', tt: 'tiktok', 'tiktok.com': 'tiktok',
  youtube: 'youtube', yt: 'youtube', 'youtube.com': 'youtube',
  twitter: 'x', x: 'x', 't.co': 'x', 'x.com': 'x',
  linkedin: 'linkedin', li: 'linkedin', 'linkedin.com': 'linkedin',
  google: 'google', adwords: 'google', 'google.com': 'google',
  email: 'email', newsletter: 'email', mailchimp: 'email', sendgrid: 'email', leadnest: 'email',
  sms: 'sms', text: 'sms', twilio: 'sms',
};

const MEDIUM_CHANNELS: Record<string, Channel> = { email: 'email', 'e-mail': 'email', newsletter: 'email', sms: 'sms', text: 'sms' };

// Referrer hosts (and their subdomains) of each platform, including the link shims apps send through.
const REFERRER_HOSTS: [string, Channel][] = [
  ['instagram.com', 'instagram'],
  ['facebook.com', 'facebook'],
  ['fb.com', 'facebook'],
  ['fb.me', 'facebook'],
  ['messenger.com', 'facebook'],
  ['whatsapp.com', 'whatsapp'],
  ['wa.me', 'whatsapp'],
  ['tiktok.com', 'tiktok'],
  ['youtube.com', 'youtube'],
  ['youtu.be', 'youtube'],
  ['t.co', 'x'],
  ['twitter.com', 'x'],
  ['x.com', 'x'],
  ['linkedin.com', 'linkedin'],
  ['lnkd.in', 'linkedin'],
  ['mail.google.com', 'email'],
  ['outlook.live.com', 'email'],
  ['outlook.office.com', 'email'],
  ['mail.yahoo.com', 'email'],
];

function host(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).hostname.toLowerCase().replace(/^www\./, '');
  } catch {
    return null;
  }
}

function matchesHost(h: string, domain: string): boolean {
  return h === domain || h.endsWith(`.${domain}`);
}

function referrerChannel(h: string): Channel | null {
  for (const [domain, channel] of REFERRER_HOSTS) if (matchesHost(h, domain)) return channel;
  // google.com, google.co.uk, google.de…: search.
  if (/^(.+\.)?google\.[a-z.]{2,6}$/.test(h)) return 'google';
  return null;
}

/**
 * The channel of one visit. Explicit tagging wins (utm_source, then utm_medium), then ad click ids,
 * then the referrer's host; a referrer from the same site or none at all is direct.
 */
export function classifyChannel(ctx: TouchContext): Channel {
  const source = ctx.utm_source?.trim().toLowerCase();
  const medium = ctx.utm_medium?.trim().toLowerCase();
  const refHost = host(ctx.referrer);
  const fromReferrer = refHost ? referrerChannel(refHost) : null;
  if (source) {
    const aliased = SOURCE_ALIASES[source] ?? (medium ? MEDIUM_CHANNELS[medium] : undefined);
    if (aliased) return aliased;
  }
  if (medium && MEDIUM_CHANNELS[medium]) return MEDIUM_CHANNELS[medium];
  // Meta adds fbclid to Instagram and Facebook clicks alike; the referrer tells them apart.
  if (ctx.fbclid) return fromReferrer === 'instagram' ? 'instagram' : 'facebook';
  if (ctx.gclid) return 'google';
  if (ctx.ttclid) return 'tiktok';
  if (source) return 'other';
  if (fromReferrer) return fromReferrer;
  if (refHost && refHost !== host(ctx.url)) return 'referral';
  return 'direct';
}
