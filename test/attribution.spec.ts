import { classifyChannel, type Channel, type TouchContext } from '../src/tracking/attribution.js';

const LANDING = 'https://shop.example/offer';

const table: [string, TouchContext, Channel][] = [
  ['nothing at all', {}, 'direct'],
  ['a landing URL only', { url: LANDING }, 'direct'],
  ['a referrer from the same site', { url: LANDING, referrer: 'https://shop.example/' }, 'direct'],
  ['Facebook link shim l.facebook.com', { referrer: 'https://l.facebook.com/l.php?u=x' }, 'facebook'],
  ['Facebook mobile shim lm.facebook.com', { referrer: 'https://lm.facebook.com/' }, 'facebook'],
  ['m.facebook.com', { referrer: 'https://m.facebook.com/story' }, 'facebook'],
  ['Instagram link shim l.instagram.com', { referrer: 'https://l.instagram.com/?u=x' }, 'instagram'],
  ['instagram.com', { referrer: 'https://www.instagram.com/' }, 'instagram'],
  ['wa.me', { referrer: 'https://wa.me/15551234567' }, 'whatsapp'],
  ['web.whatsapp.com', { referrer: 'https://web.whatsapp.com/' }, 'whatsapp'],
  ['t.co', { referrer: 'https://t.co/abc' }, 'x'],
  ['x.com', { referrer: 'https://x.com/someone' }, 'x'],
  ['tiktok.com', { referrer: 'https://www.tiktok.com/@shop' }, 'tiktok'],
  ['youtu.be', { referrer: 'https://youtu.be/xyz' }, 'youtube'],
  ['m.youtube.com', { referrer: 'https://m.youtube.com/watch' }, 'youtube'],
  ['lnkd.in', { referrer: 'https://lnkd.in/abc' }, 'linkedin'],
  ['google.com search', { referrer: 'https://www.google.com/' }, 'google'],
  ['google.co.uk search', { referrer: 'https://www.google.co.uk/' }, 'google'],
  ['webmail', { referrer: 'https://mail.google.com/mail/u/0' }, 'email'],
  ['an unknown site', { url: LANDING, referrer: 'https://blog.example.org/post' }, 'referral'],
  ['a broken referrer', { referrer: 'not a url' }, 'direct'],
  ['utm_source=ig wins over referrer', { utm_source: 'IG', referrer: 'https://l.facebook.com/' }, 'instagram'],
  ['utm_source=facebook', { utm_source: 'facebook', utm_medium: 'paid_social' }, 'facebook'],
  ['utm_source=whatsapp', { utm_source: 'whatsapp' }, 'whatsapp'],
  ['utm_source=newsletter', { utm_source: 'newsletter' }, 'email'],
  ['utm_medium=email with an unknown source', { utm_source: 'spring-promo', utm_medium: 'email' }, 'email'],
  ['utm_medium=sms', { utm_medium: 'sms' }, 'sms'],
  ['unknown utm_source', { utm_source: 'partner-blog' }, 'other'],
  ['fbclid alone', { fbclid: 'abc' }, 'facebook'],
  ['fbclid from Instagram', { fbclid: 'abc', referrer: 'https://l.instagram.com/' }, 'instagram'],
  ['gclid', { gclid: 'abc', referrer: 'https://www.google.com/' }, 'google'],
  ['ttclid', { ttclid: 'abc' }, 'tiktok'],
  ['a lookalike host is not the platform', { referrer: 'https://notfacebook.com/' }, 'referral'],
];

describe('channel classification', () => {
  it.each(table)('%s', (_, ctx, channel) => {
    expect(classifyChannel(ctx)).toBe(channel);
  });
});
