/**
 * `/embed.js`: Polar's embed script (`@polar-sh/checkout`, `clients/packages/checkout/src/checkout.ts`) with
 * the same markup and API, trusting messages from this Kassa instance only. Markup:
 * `<a href="…/buy/polar_cl_…" data-polar-checkout data-polar-checkout-theme="dark">Buy</a>` with
 * `<script src="…/embed.js" defer data-auto-init></script>`; API: `Polar.EmbedCheckout.create(url, { theme })`
 * (also `window.PolarEmbedCheckout`), resolving once the checkout is loaded to an object with
 * `addEventListener('loaded' | 'close' | 'confirmed' | 'success', …)`, `removeEventListener` and `close()`;
 * `init()` wires every `[data-polar-checkout]` element. It adds `embed=true&embed_origin=<location.origin>` to
 * the link, as Polar's does.
 *
 * Plain ES2017, no eval, no inline style element: every style is set through the DOM and the spinner runs on
 * the Web Animations API, so the script works under a merchant's strict Content-Security-Policy too.
 */
export function embedScript(trustedOrigins: readonly string[]): string {
  // JSON of origins parsed by `new URL(...).origin`: no quote or `</script>` can appear in it.
  return String.raw`/* Kassa embedded checkout: the API and markup of @polar-sh/checkout. */
(function () {
  'use strict';
  var ORIGINS = ${JSON.stringify(trustedOrigins)};
  var TYPE = 'POLAR_CHECKOUT';

  function EmbedCheckout(iframe, loader) {
    this.iframe = iframe;
    this.loader = loader;
    this.loaded = false;
    this.closable = true;
    this.eventTarget = new EventTarget();
    this.windowMessageListener = this.handleWindowMessage.bind(this);
    window.addEventListener('message', this.windowMessageListener);
  }

  /** What the checkout page itself calls to talk to its parent (kept for API parity). */
  EmbedCheckout.postMessage = function (message, targetOrigin) {
    var m = { type: TYPE };
    for (var k in message) m[k] = message[k];
    window.parent.postMessage(m, targetOrigin);
  };

  EmbedCheckout.create = function (url, options) {
    if (typeof options === 'string') options = { theme: options };
    var theme = options && options.theme;
    var dark = theme === 'dark';

    var loader = document.createElement('div');
    var ls = loader.style;
    ls.position = 'fixed'; ls.top = '50%'; ls.left = '50%'; ls.transform = 'translate(-50%, -50%)';
    ls.zIndex = '2147483647'; ls.colorScheme = 'auto';
    var spinner = document.createElement('div');
    spinner.className = 'polar-loader-spinner';
    var ss = spinner.style;
    ss.width = '20px'; ss.aspectRatio = '1'; ss.borderRadius = '50%'; ss.background = dark ? '#000' : '#fff';
    loader.appendChild(spinner);
    var ring = dark ? '#fff' : '#000';
    if (spinner.animate) spinner.animate([{ boxShadow: '0 0 0 0 ' + ring }, { boxShadow: '0 0 0 30px #0000' }], { duration: 1000, iterations: Infinity });

    var body = document.body;
    var overflow = body.style.overflow;
    body.classList.add('polar-no-scroll');
    body.style.overflow = 'hidden';
    body.appendChild(loader);

    var parsed = new URL(url, window.location.href);
    parsed.searchParams.set('embed', 'true');
    parsed.searchParams.set('embed_origin', window.location.origin);
    if (theme) parsed.searchParams.set('theme', theme);

    var iframe = document.createElement('iframe');
    iframe.src = parsed.toString();
    var fs = iframe.style;
    fs.position = 'fixed'; fs.top = '0'; fs.left = '0'; fs.width = '100%'; fs.height = '100%'; fs.border = 'none';
    fs.zIndex = '2147483647'; fs.backgroundColor = 'rgba(0, 0, 0, 0.5)'; fs.colorScheme = 'normal';
    iframe.setAttribute('data-lenis-prevent', '');
    var origins = ORIGINS.join(' ');
    iframe.allow = "payment 'self' " + origins + "; publickey-credentials-get 'self' " + origins + ';';
    body.appendChild(iframe);

    var embed = new EmbedCheckout(iframe, loader);
    embed.bodyOverflow = overflow;
    if (options && options.onLoaded) embed.addEventListener('loaded', options.onLoaded, { once: true });
    return new Promise(function (resolve) {
      embed.addEventListener('loaded', function () { resolve(embed); }, { once: true });
    });
  };

  EmbedCheckout.init = function () {
    var elements = document.querySelectorAll('[data-polar-checkout]');
    for (var i = 0; i < elements.length; i++) {
      elements[i].removeEventListener('click', EmbedCheckout.checkoutElementClickHandler);
      elements[i].addEventListener('click', EmbedCheckout.checkoutElementClickHandler);
    }
  };

  EmbedCheckout.checkoutElementClickHandler = function (e) {
    e.preventDefault();
    var el = e.target;
    // The closest element carrying the attribute, in case a child of it was clicked.
    while (el && !(el.hasAttribute && el.hasAttribute('data-polar-checkout'))) el = el.parentElement;
    if (!el) return;
    var url = el.getAttribute('href') || el.getAttribute('data-polar-checkout');
    var theme = el.getAttribute('data-polar-checkout-theme');
    EmbedCheckout.create(url, theme ? { theme: theme } : undefined);
  };

  EmbedCheckout.prototype.close = function () {
    window.removeEventListener('message', this.windowMessageListener);
    if (document.body.contains(this.iframe)) document.body.removeChild(this.iframe);
    if (document.body.contains(this.loader)) document.body.removeChild(this.loader);
    document.body.classList.remove('polar-no-scroll');
    document.body.style.overflow = this.bodyOverflow || '';
  };

  EmbedCheckout.prototype.addEventListener = function (type, listener, options) {
    this.eventTarget.addEventListener(type, listener, options);
  };

  EmbedCheckout.prototype.removeEventListener = function (type, listener) {
    this.eventTarget.removeEventListener(type, listener);
  };

  EmbedCheckout.prototype.handleWindowMessage = function (event) {
    // Only this Kassa instance's pages, and only from this overlay's own frame.
    if (ORIGINS.indexOf(event.origin) < 0) return;
    if (event.source !== this.iframe.contentWindow) return;
    var data = event.data;
    if (!data || data.type !== TYPE) return;
    var custom = new CustomEvent(data.event, { detail: data, cancelable: true });
    this.eventTarget.dispatchEvent(custom);
    if (custom.defaultPrevented) return;
    switch (data.event) {
      case 'loaded':
        if (!this.loaded) {
          if (document.body.contains(this.loader)) document.body.removeChild(this.loader);
          this.loaded = true;
        }
        break;
      case 'close':
        if (this.closable) this.close();
        break;
      case 'confirmed':
        this.closable = false;
        break;
      case 'success':
        this.closable = true;
        if (data.redirect) window.location.href = data.successURL;
        break;
    }
  };

  var Polar = window.Polar || {};
  Polar.EmbedCheckout = EmbedCheckout;
  window.Polar = Polar;
  window.PolarEmbedCheckout = EmbedCheckout;

  var current = document.currentScript;
  if (current && current.hasAttribute('data-auto-init')) {
    // Polar waits for DOMContentLoaded; a script added after it has fired initializes at once.
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', EmbedCheckout.init);
    else EmbedCheckout.init();
  }
})();
`
}
