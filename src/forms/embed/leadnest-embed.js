// @ts-nocheck -- a browser script: the project's TypeScript lib has no DOM types; Chromium tests cover it.
/*
 * LeadNest embeddable form (served as /embed.js). Plain ES2018, no dependencies, no third-party requests.
 *   <script src="https://API/embed.js" data-form="FORM_ID" async></script>   renders right after the tag
 *   <div data-leadnest-form="FORM_ID"></div>                                 renders anywhere on the page
 * Options on the script or the div: data-key="pk_…" (publishable key: page_view/form_view events),
 * data-title="off" (no heading). Styles use `ln-` classes and come first in <head>: site CSS wins.
 */
(function () {
  'use strict';
  var w = window;
  var d = document;
  var script = d.currentScript || [].slice.call(d.querySelectorAll('script[src*="/embed.js"]')).pop();
  if (!script || !w.fetch) return;
  var api = script.src.replace(/\/embed\.js(?:[?#].*)?$/, '');
  // A second copy of the script (same API) only adds its placement: one queue, one timer, one listener.
  var instances = (w.__leadnest = w.__leadnest || {});
  if (instances[api]) return instances[api](script);

  var PREFIX = 'leadnest:';
  var DAY = 864e5;
  var TOUCH_TTL = 90 * DAY;
  var QUEUE_TTL = 30 * DAY;
  var CLICK_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'fbclid', 'gclid', 'ttclid'];
  var EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]{2,}$/;
  var DATE = /^\d{4}-\d{2}-\d{2}$/;
  var MAX_TEXT = 2000;
  var AUTOCOMPLETE = { email: 'email', phone: 'tel', first_name: 'given-name', last_name: 'family-name' };
  var INPUT_TYPE = { email: 'email', phone: 'tel', number: 'number', date: 'date' };
  var TEXT = {
    sending: 'Sending…',
    fix: 'Please check the highlighted fields.',
    queued: 'You seem to be offline or our server is busy. Your details are saved on this device and will be sent automatically when the connection is back.',
    gone: 'This form is no longer available.',
    failed: 'Something went wrong. Please try again.',
    loadFailed: 'The form could not be loaded.',
    retry: 'Try again',
  };
  var CSS =
    '.ln-form{display:grid;gap:1rem;max-width:32rem;margin:0 0 1rem}.ln-form[hidden]{display:none}' +
    '.ln-title{margin:0}.ln-desc{margin:0}' +
    '.ln-field{display:grid;gap:.3rem;margin:0;padding:0;border:0;min-width:0}' +
    '.ln-label{font-weight:600}.ln-req{color:#b3261e}' +
    '.ln-input{font:inherit;font-size:max(1em,16px);color:#111;background:#fff;border:1px solid #767676;border-radius:.4rem;padding:.6rem .75rem;min-height:2.75rem;width:100%;box-sizing:border-box}' +
    '.ln-check{display:flex;gap:.6rem;align-items:flex-start}' +
    '.ln-check input{flex:none;width:1.2rem;height:1.2rem;margin:.15rem 0 0}' +
    '.ln-form :focus-visible{outline:3px solid #1a56db;outline-offset:2px}' +
    '.ln-input[aria-invalid=true],.ln-check [aria-invalid=true]{border-color:#b3261e;outline-color:#b3261e}' +
    '.ln-error{color:#b3261e;font-size:.9em;margin:0}.ln-error:empty{display:none}' +
    '.ln-submit{font:inherit;font-weight:600;color:#fff;background:#1a56db;border:0;border-radius:.4rem;padding:.7rem 1.4rem;min-height:2.75rem;cursor:pointer;justify-self:start}' +
    '.ln-submit:disabled{opacity:.65;cursor:progress}' +
    '.ln-result:not(:empty){max-width:32rem;padding:.8rem 1rem;border-radius:.4rem;background:#e8f3ec;color:#14532d}' +
    '[data-ln-state=queued] .ln-result{background:#fdf6e3;color:#5c4100}' +
    '.ln-alert{color:#b3261e;margin:0}.ln-alert:empty{display:none}' +
    '.ln-hp{position:absolute!important;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}';

  // ---- storage: localStorage when the browser allows it, memory otherwise (private modes, sandboxes)
  var memory = {};
  function load(key, fallback) {
    try {
      var raw = w.localStorage.getItem(PREFIX + key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) {
      return key in memory ? memory[key] : fallback;
    }
  }
  function save(key, value) {
    memory[key] = value;
    try {
      w.localStorage.setItem(PREFIX + key, JSON.stringify(value));
    } catch (e) {
      // Memory copy only: the queue still retries while the page stays open.
    }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    w.crypto.getRandomValues(bytes);
    return [].map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  var anonymousId = load('aid', '');
  if (!/^[\w-]{8,64}$/.test(anonymousId)) save('aid', (anonymousId = randomId()));

  function pageTouch() {
    var query = new URLSearchParams(w.location.search);
    var touch = { url: w.location.href.slice(0, MAX_TEXT), referrer: d.referrer.slice(0, MAX_TEXT) };
    CLICK_KEYS.forEach(function (k) {
      var v = query.get(k);
      // The server refuses longer values, which would refuse the whole submission.
      if (v) touch[k] = v.slice(0, k.indexOf('utm_') === 0 ? 200 : 500);
    });
    return touch;
  }
  // First touch: how this visitor first arrived (the Instagram bio link, the ad), kept across pages and visits.
  var first = load('touch', null);
  if (!first || !(Date.now() - first.at < TOUCH_TTL)) save('touch', (first = Object.assign({ at: Date.now() }, pageTouch())));
  var context = Object.assign({}, first, { anonymousId: anonymousId });
  delete context.at;

  // ---- events (only with a publishable key; failures are ignored)
  var outbox = {};
  var pageViewed = {};
  function track(key, type, properties) {
    if (!/^pk_/.test(key || '')) return;
    if (!outbox[key]) {
      // Everything tracked in this tick goes in one batch.
      outbox[key] = [];
      setTimeout(function () {
        var events = outbox[key];
        delete outbox[key];
        fetch(api + '/v1/public/events', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key },
          body: JSON.stringify({ events: events }),
          credentials: 'omit',
        }).catch(function () {});
      }, 0);
    }
    var ctx = pageTouch();
    ctx.anonymousId = anonymousId;
    outbox[key].push({ type: type, anonymousId: anonymousId, properties: properties, context: ctx, occurredAt: new Date().toISOString() });
  }

  // ---- delivery and the offline queue
  function submitUrl(item) {
    return item.api + '/v1/public/forms/' + encodeURIComponent(item.form) + '/submissions';
  }

  // fetch with a deadline; resolves once the JSON body is read (null when empty or not JSON).
  async function call(url, init) {
    var abort = new AbortController();
    var deadline = setTimeout(function () { abort.abort(); }, 15000);
    try {
      var res = await fetch(url, Object.assign({ credentials: 'omit', signal: abort.signal }, init));
      var data = await res.json().catch(function () { return null; });
      return { status: res.status, ok: res.ok, headers: res.headers, data: data };
    } finally {
      clearTimeout(deadline);
    }
  }

  // One attempt. { ok, data } | { retry, after } (network error, timeout, 5xx, 429) | { status, data }.
  async function send(item) {
    var res;
    try {
      res = await call(submitUrl(item), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': item.key },
        body: JSON.stringify(item.body),
      });
    } catch (e) {
      return { retry: true };
    }
    if (res.ok) return { ok: true, data: res.data || {} };
    if (res.status >= 500 || res.status === 429 || res.status === 408) {
      var seconds = Number(res.headers.get('retry-after'));
      return { retry: true, after: seconds > 0 ? seconds * 1000 : 0 };
    }
    return { status: res.status, data: res.data || {} };
  }

  function queue() {
    var items = load('queue', []);
    return Array.isArray(items) ? items : [];
  }
  // Read-modify-write of the stored queue, so other tabs' items survive.
  function updateQueue(fn) {
    save('queue', fn(queue()).filter(function (i) { return Date.now() - i.at < QUEUE_TTL; }));
  }
  function backoff(tries) {
    return Math.min(3e5, 2000 * Math.pow(2, tries - 1)) * (0.75 + Math.random() / 2);
  }

  var listeners = {};
  var inFlight = {};
  var flushing = false;
  var timer = 0;

  async function attempt(item) {
    inFlight[item.key] = true;
    try {
      var result = await send(item);
    } finally {
      delete inFlight[item.key];
    }
    if (result.retry) {
      updateQueue(function (q) {
        return q.map(function (x) {
          return x.key === item.key ? Object.assign(x, { tries: x.tries + 1, next: Date.now() + (result.after || backoff(x.tries + 1)) }) : x;
        });
      });
      schedule();
    } else {
      // Delivered, or refused for good (the form changed, was archived…): either way it leaves the queue.
      updateQueue(function (q) { return q.filter(function (x) { return x.key !== item.key; }); });
    }
    return result;
  }

  async function flush(force) {
    if (flushing) return;
    flushing = true;
    try {
      var items = queue();
      for (var i = 0; i < items.length; i++) {
        var item = items[i];
        if (inFlight[item.key] || (!force && item.next > Date.now())) continue;
        var result = await attempt(item);
        if (!result.retry && listeners[item.key]) listeners[item.key](result);
      }
    } finally {
      flushing = false;
      schedule();
    }
  }

  function schedule() {
    clearTimeout(timer);
    var next = Math.min.apply(null, queue().map(function (i) { return i.next; }));
    if (isFinite(next)) timer = setTimeout(function () { flush(false); }, Math.max(1000, next - Date.now()));
  }

  // ---- rendering
  var counter = 0;

  function el(tag, attrs, text) {
    var node = d.createElement(tag);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null && attrs[k] !== false) node.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    if (text) node.textContent = text;
    return node;
  }

  function injectStyle() {
    if (d.getElementById('ln-style')) return;
    var style = el('style', { id: 'ln-style' }, CSS);
    var head = d.head || d.documentElement;
    head.insertBefore(style, head.firstChild);
  }

  async function mount(root, formId, key) {
    if (root.getAttribute('data-ln-state')) return;
    root.setAttribute('data-ln-state', 'loading');
    var def;
    try {
      var inline = root.getAttribute('data-definition');
      if (inline) def = JSON.parse(inline);
      else {
        var res = await call(api + '/v1/public/forms/' + encodeURIComponent(formId), {});
        if (res.status === 404) return loadFailed(root, TEXT.gone);
        if (!res.ok || !res.data) throw new Error(String(res.status));
        def = res.data;
      }
    } catch (e) {
      return loadFailed(root, TEXT.loadFailed, function () { mount(root, formId, key); });
    }
    render(root, def, key);
  }

  function loadFailed(root, message, again) {
    root.textContent = '';
    root.setAttribute('data-ln-state', 'error');
    var p = el('p', { class: 'ln-alert', role: 'alert' }, message + ' ');
    if (again) {
      var b = el('button', { type: 'button', class: 'ln-submit' }, TEXT.retry);
      b.onclick = function () {
        root.removeAttribute('data-ln-state');
        again();
      };
      p.appendChild(b);
    }
    root.appendChild(p);
  }

  function render(root, def, key) {
    injectStyle();
    var uid = 'ln' + ++counter + '-';
    var form = el('form', { class: 'ln-form', novalidate: true, 'aria-label': def.title || null });
    var inputs = {};
    var errors = {};
    var startedAt = Date.now();

    if (root.getAttribute('data-title') !== 'off') {
      if (def.title) form.appendChild(el('h2', { class: 'ln-title' }, def.title));
      if (def.description) form.appendChild(el('p', { class: 'ln-desc' }, def.description));
    }

    function addControl(path, label, control, required, isCheck) {
      var id = uid + path.replace('.', '-');
      var errId = id + '-error';
      control.id = id;
      control.setAttribute('aria-describedby', errId);
      if (required) control.setAttribute('aria-required', 'true');
      var labelEl = el('label', { for: id, class: 'ln-label' }, label);
      if (required) labelEl.appendChild(el('span', { class: 'ln-req', 'aria-hidden': 'true' }, ' *'));
      var box = el('div', { class: 'ln-field' });
      if (isCheck) {
        var row = el('div', { class: 'ln-check' });
        labelEl.className = 'ln-choice';
        row.appendChild(control);
        row.appendChild(labelEl);
        box.appendChild(row);
      } else {
        box.appendChild(labelEl);
        box.appendChild(control);
      }
      errors[path] = box.appendChild(el('p', { class: 'ln-error', id: errId }));
      inputs[path] = control;
      form.appendChild(box);
    }

    (def.fields || []).forEach(function (f) {
      var control;
      if (f.type === 'select') {
        control = el('select', { class: 'ln-input', name: f.key });
        control.appendChild(el('option', { value: '' }, f.placeholder || '—'));
        (f.options || []).forEach(function (o) { control.appendChild(el('option', { value: o }, o)); });
      } else if (f.type === 'checkbox') {
        control = el('input', { type: 'checkbox', name: f.key });
      } else {
        control = el('input', {
          class: 'ln-input',
          name: f.key,
          type: INPUT_TYPE[f.type] || 'text',
          autocomplete: AUTOCOMPLETE[f.type],
          placeholder: f.placeholder,
          maxlength: f.type === 'number' || f.type === 'date' ? null : Math.min(f.maxLength || MAX_TEXT, MAX_TEXT),
          min: f.type === 'number' ? f.min : null,
          max: f.type === 'number' ? f.max : null,
          step: f.type === 'number' ? 'any' : null,
        });
      }
      addControl('fields.' + f.key, f.label, control, f.required, f.type === 'checkbox');
    });
    (def.consents || []).forEach(function (c) {
      addControl('consent.' + c.key, c.text, el('input', { type: 'checkbox', name: 'consent-' + c.key }), c.required, true);
    });

    // Honeypot: out of sight and out of the tab order for people; bots that fill every input fill it.
    var trap = el('div', { class: 'ln-hp', 'aria-hidden': 'true' });
    trap.appendChild(el('label', { for: uid + 'hp' }, 'Leave this field empty'));
    var honeypot = trap.appendChild(el('input', { id: uid + 'hp', type: 'text', name: def.honeypotField || 'website', tabindex: '-1', autocomplete: 'off' }));
    form.appendChild(trap);

    var alertEl = form.appendChild(el('p', { class: 'ln-alert', role: 'alert' }));
    var button = form.appendChild(el('button', { type: 'submit', class: 'ln-submit' }, def.submitLabel || 'Sign up'));
    var result = el('div', { class: 'ln-result', role: 'status', 'aria-live': 'polite', tabindex: '-1' });

    function showErrors(list, detail) {
      var firstBad = null;
      var unplaced = [];
      list.forEach(function (e) {
        var input = inputs[e.field];
        if (!input) return unplaced.push(e.message);
        errors[e.field].textContent = e.message;
        input.setAttribute('aria-invalid', 'true');
        firstBad = firstBad || input;
      });
      alertEl.textContent = unplaced.length ? unplaced.join(' ') : firstBad ? TEXT.fix : detail || TEXT.failed;
      if (firstBad) firstBad.focus();
    }

    function clearErrors() {
      alertEl.textContent = '';
      Object.keys(errors).forEach(function (p) {
        errors[p].textContent = '';
        inputs[p].removeAttribute('aria-invalid');
      });
    }

    function done(data) {
      if (data.redirectUrl && /^https?:\/\//i.test(data.redirectUrl)) return w.location.assign(data.redirectUrl);
      form.hidden = true;
      result.textContent = data.message || def.successMessage;
      root.setAttribute('data-ln-state', 'done');
      result.focus();
    }

    // What the server answered, now or later from the queue.
    function outcome(r) {
      button.disabled = false;
      button.textContent = def.submitLabel || 'Sign up';
      if (r.ok) return done(r.data);
      form.hidden = false;
      result.textContent = '';
      root.setAttribute('data-ln-state', 'ready');
      var p = r.data || {};
      showErrors(Array.isArray(p.errors) ? p.errors : [], r.status === 404 ? TEXT.gone : p.detail || p.title);
    }

    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      if (button.disabled) return;
      clearErrors();
      var values = collect(def, inputs);
      if (values.errors.length) return showErrors(values.errors);
      button.disabled = true;
      button.textContent = TEXT.sending;
      // A person whose browser autofilled everything can be faster than the spam threshold: wait it out.
      var wait = startedAt + (def.minFillSeconds || 0) * 1000 + 300 - Date.now();
      if (wait > 0) await new Promise(function (r) { setTimeout(r, wait); });
      var item = {
        key: randomId(),
        api: api,
        form: def.id,
        at: Date.now(),
        tries: 0,
        // Retried from here only if this page never hears back (closed mid-request).
        next: Date.now() + 20000,
        body: { fields: values.fields, consent: values.consent, context: context, startedAt: startedAt, website: honeypot.value },
      };
      // Written ahead: a tab closed in a tunnel loses nothing; the same Idempotency-Key lands it once.
      updateQueue(function (q) { return q.concat(item); });
      var r = await attempt(item);
      if (!r.retry) return outcome(r);
      listeners[item.key] = outcome;
      form.hidden = true;
      root.setAttribute('data-ln-state', 'queued');
      result.textContent = TEXT.queued;
      result.focus();
    });

    root.textContent = '';
    root.appendChild(form);
    root.appendChild(result);
    root.setAttribute('data-ln-state', 'ready');
    track(key, 'form_view', { formId: def.id, formVersion: def.version });
  }

  // ---- validation: the same rules and messages as the server's checkSubmission
  function collect(def, inputs) {
    var out = { fields: {}, consent: {}, errors: [] };
    var contact = false;
    (def.fields || []).forEach(function (f) {
      var path = 'fields.' + f.key;
      var input = inputs[path];
      var fail = function (message) { out.errors.push({ field: path, message: message }); };
      if (f.type === 'checkbox') {
        if (input.checked) out.fields[f.key] = true;
        else if (f.required) fail(f.label + ' is required');
        return;
      }
      var value = input.value.trim();
      if (!value) return f.required && fail(f.label + ' is required');
      if (f.type === 'number') {
        var n = Number(value);
        if (!isFinite(n)) return fail('must be a number');
        if (f.min != null && n < f.min) return fail('must be at least ' + f.min);
        if (f.max != null && n > f.max) return fail('must be at most ' + f.max);
        out.fields[f.key] = n;
        return;
      }
      if (value.length > Math.min(f.maxLength || MAX_TEXT, MAX_TEXT)) return fail('must be at most ' + (f.maxLength || MAX_TEXT) + ' characters');
      if (f.minLength != null && value.length < f.minLength) return fail('must be at least ' + f.minLength + ' characters');
      if (f.type === 'email' && !(value.length <= 254 && EMAIL.test(value.toLowerCase()))) return fail('must be a valid email address');
      // Loose on purpose: the server decides with libphonenumber and its answer is shown the same way.
      if (f.type === 'phone' && !/^\+?\d{6,15}$/.test(value.replace(/[\s().\/-]/g, ''))) return fail('must be a valid phone number');
      if (f.type === 'select' && (f.options || []).indexOf(value) < 0) return fail('must be one of: ' + (f.options || []).join(', '));
      if (f.type === 'date' && !(DATE.test(value) && !isNaN(Date.parse(value + 'T00:00:00Z')))) return fail('must be a date (YYYY-MM-DD)');
      if (f.pattern && ['text', 'first_name', 'last_name'].indexOf(f.type) >= 0 && !matches(f.pattern, value)) return fail('has an invalid format');
      if (f.type === 'email' || f.type === 'phone') contact = true;
      out.fields[f.key] = value;
    });
    (def.consents || []).forEach(function (c) {
      var path = 'consent.' + c.key;
      var given = inputs[path].checked;
      out.consent[c.key] = given;
      if (!given && c.required) out.errors.push({ field: path, message: 'this consent is required' });
      var needed = c.channel === 'email' ? 'email' : 'phone';
      var address = (def.fields || []).some(function (f) { return f.type === needed && out.fields[f.key]; });
      if (given && !address) out.errors.push({ field: path, message: c.channel + ' consent needs a ' + (needed === 'email' ? 'email address' : 'phone number') });
    });
    if (!out.errors.length && !contact) {
      var target = (def.fields || []).filter(function (f) { return f.type === 'email'; })[0] || (def.fields || []).filter(function (f) { return f.type === 'phone'; })[0];
      out.errors.push({ field: target ? 'fields.' + target.key : 'fields', message: 'an email address or a phone number is required' });
    }
    return out;
  }

  function matches(pattern, value) {
    try {
      return new RegExp('^(?:' + pattern + ')$', 'u').test(value);
    } catch (e) {
      return true; // a pattern this browser cannot compile is left to the server
    }
  }

  // ---- placements
  function pageView(key) {
    if (key && !pageViewed[key]) {
      pageViewed[key] = true;
      track(key, 'page_view', { title: d.title });
    }
  }

  function scan(from) {
    var scriptKey = from && from.getAttribute('data-key');
    if (from && from.getAttribute('data-form') && !from.getAttribute('data-ln-placed')) {
      from.setAttribute('data-ln-placed', '1');
      var box = el('div', { 'data-leadnest-form': from.getAttribute('data-form'), 'data-key': scriptKey, 'data-title': from.getAttribute('data-title') });
      from.parentNode.insertBefore(box, from.nextSibling);
    }
    pageView(scriptKey);
    [].forEach.call(d.querySelectorAll('[data-leadnest-form]'), function (root) {
      var key = root.getAttribute('data-key') || scriptKey;
      pageView(key);
      mount(root, root.getAttribute('data-leadnest-form'), key);
    });
  }

  instances[api] = scan;
  scan(script);
  // An async script can run before the rest of the page is parsed.
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', function () { scan(null); });
  w.addEventListener('online', function () { flush(true); });
  // Whatever an earlier page left in the queue goes out now.
  flush(true);
})();
