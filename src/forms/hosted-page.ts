import type { PublicFormResponse } from './forms.dto.js';
import { escapeText } from './html.js';

// Mobile first: most visitors arrive from a "link in bio" inside a social app's browser.
const STYLE = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c1c1e;background:#f4f5f7}
main{max-width:34rem;margin:0 auto;padding:2rem 1.25rem 3rem}
.card{background:#fff;border-radius:1rem;padding:1.5rem 1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:1.6rem;line-height:1.25;margin:0 0 .5rem}
.description{margin:0 0 1.5rem;white-space:pre-line;color:#3a3a3c}
.ln-form{max-width:none}
.ln-submit{width:100%}
footer{margin-top:1.5rem;text-align:center;font-size:.85rem;color:#6b6b70}
@media (min-width:40rem){main{padding-top:4rem}.card{padding:2rem}}
`.trim();

function head(title: string, extra: string): string {
  return (
    `<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeText(title)}</title>${extra}<style>${STYLE}</style>`
  );
}

/**
 * The hosted landing page (`/f/{slug}`): title and description rendered here, for link previews and
 * no layout shift; the form itself by /embed.js from the definition inlined in the placement, so the
 * page needs no second round-trip. Every workspace value goes through escapeText.
 */
export function renderHostedPage(form: PublicFormResponse, publicUrl: string): string {
  const title = form.title || 'Sign up';
  const summary = (form.description ?? '').trim() || title;
  const url = `${publicUrl.replace(/\/$/, '')}/f/${encodeURIComponent(form.slug)}`;
  const meta =
    `<meta name="description" content="${escapeText(summary)}">` +
    `<meta property="og:type" content="website"><meta property="og:title" content="${escapeText(title)}">` +
    `<meta property="og:description" content="${escapeText(summary)}"><meta property="og:url" content="${escapeText(url)}">` +
    `<meta name="twitter:card" content="summary"><link rel="canonical" href="${escapeText(url)}">`;
  const description = form.description?.trim() ? `<p class="description">${escapeText(form.description.trim())}</p>` : '';
  // `../embed.js`: relative to /f/, so the page also works when the API is served under a path prefix.
  return (
    `<!doctype html><html lang="en"><head>${head(title, meta)}</head><body><main><div class="card">` +
    `<h1>${escapeText(title)}</h1>${description}` +
    `<div data-leadnest-form="${escapeText(form.id)}" data-title="off" data-definition="${escapeText(JSON.stringify(form))}">` +
    `<noscript><p>This form needs JavaScript. Please enable it, or open this page in your browser.</p></noscript></div>` +
    `<script src="../embed.js" async></script>` +
    `</div><footer>Powered by LeadNest</footer></main></body></html>`
  );
}

export function renderNotFoundPage(): string {
  return (
    `<!doctype html><html lang="en"><head>${head('Form not found', '<meta name="robots" content="noindex">')}</head>` +
    `<body><main><div class="card"><h1>Form not found</h1>` +
    `<p>This form does not exist or is no longer accepting sign-ups.</p></div></main></body></html>`
  );
}
