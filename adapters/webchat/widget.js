/* idicbot web chat widget. A shop puts on its pages:
 *   <script src="https://CHAT-HOST/webchat/widget.js" defer></script>
 * Options, as data- attributes of that tag:
 *   data-lang="en"        the chat's first language (Vietnamese by default)
 *   data-position="left"  the launcher's corner (bottom right by default)
 *   data-open="true"      open the chat at once
 * The chat runs in an iframe of its own origin: this page's scripts cannot
 * read the conversation, and the chat's styles and this page's stay apart.
 * Styles are set through the CSSOM, which a strict style-src allows. */
(() => {
  'use strict';
  const config = /*config*/{};
  const me = document.currentScript;
  if (!me || window.__idicbotWidget) return;
  window.__idicbotWidget = true;
  const origin = new URL(me.src, location.href).origin;
  const opt = me.dataset;
  const vi = opt.lang !== 'en';
  const shop = config.shop || '';
  const label = vi ? (shop ? 'Trò chuyện với ' + shop : 'Mở trò chuyện') : (shop ? 'Chat with ' + shop : 'Open chat');
  const side = opt.position === 'left' ? 'left' : 'right';

  function css(el, props) { for (const k in props) el.style.setProperty(k, props[k], 'important'); return el; }

  const launcher = document.createElement('button');
  launcher.type = 'button';
  launcher.id = 'idicbot-launcher';
  launcher.setAttribute('aria-label', label);
  launcher.setAttribute('aria-expanded', 'false');
  launcher.setAttribute('aria-controls', 'idicbot-chat');
  launcher.title = label;
  css(launcher, {
    all: 'initial', position: 'fixed', bottom: '20px', [side]: '20px', 'z-index': '2147483000',
    width: '60px', height: '60px', 'border-radius': '50%', background: config.color || '#0f766e',
    color: config.on || '#ffffff', cursor: 'pointer', display: 'grid', 'place-items': 'center',
    'box-shadow': '0 6px 24px rgba(15, 23, 42, .3)', border: '2px solid ' + (config.on || '#ffffff'),
  });
  // Icons are built as nodes: a page with Trusted Types refuses innerHTML.
  function icon(d) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    for (const [k, v] of [['viewBox', '0 0 24 24'], ['width', '28'], ['height', '28'], ['fill', 'currentColor'], ['aria-hidden', 'true'], ['focusable', 'false']]) svg.setAttribute(k, v);
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
    return svg;
  }
  const chatIcon = icon('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z');
  const closeIcon = icon('M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z');

  const panel = document.createElement('div');
  panel.id = 'idicbot-chat';
  css(panel, {
    all: 'initial', position: 'fixed', bottom: '92px', [side]: '20px', 'z-index': '2147483000',
    width: '380px', height: '600px', 'max-width': 'calc(100vw - 40px)', 'max-height': 'calc(100vh - 112px)',
    'border-radius': '16px', overflow: 'hidden', background: '#ffffff', display: 'none',
    'box-shadow': '0 12px 48px rgba(15, 23, 42, .3)',
  });
  let frame = null;
  let open = false;
  let unread = 0;
  // The badge counts replies that came while the chat was closed.
  // It sits beside the button, not in it, so that the button's name is
  // its label alone; the label says the count in words.
  const badge = document.createElement('span');
  badge.id = 'idicbot-unread';
  badge.setAttribute('aria-hidden', 'true');
  css(badge, {
    all: 'initial', position: 'fixed', bottom: '66px', [side]: '14px', 'z-index': '2147483001', 'pointer-events': 'none', 'min-width': '20px',
    height: '20px', 'border-radius': '10px', background: '#b91c1c', color: '#ffffff', font: '700 12px/20px system-ui, sans-serif',
    'text-align': 'center', padding: '0 5px', 'box-sizing': 'border-box', display: 'none',
  });
  launcher.append(chatIcon);
  function showUnread() {
    badge.textContent = unread > 9 ? '9+' : String(unread);
    css(badge, { display: unread && !(open && narrow()) ? 'block' : 'none' });
    const more = unread ? (vi ? ' (' + unread + ' tin nhắn mới)' : ' (' + unread + (unread === 1 ? ' new message)' : ' new messages)')) : '';
    launcher.setAttribute('aria-label', label + more);
    launcher.title = label + more;
  }

  function narrow() { return window.matchMedia('(max-width: 480px)').matches; }
  function layout() {
    // On a phone the chat takes the whole screen; the launcher then hides
    // and the chat's own close button brings it back.
    const full = open && narrow();
    css(panel, full
      ? { top: '0', bottom: '0', left: '0', right: '0', width: '100vw', height: '100%', 'max-width': 'none', 'max-height': 'none', 'border-radius': '0' }
      : { top: 'auto', bottom: '92px', left: side === 'left' ? '20px' : 'auto', right: side === 'right' ? '20px' : 'auto',
        width: '380px', height: '600px', 'max-width': 'calc(100vw - 40px)', 'max-height': 'calc(100vh - 112px)', 'border-radius': '16px' });
    css(launcher, { display: full ? 'none' : 'grid' });
  }
  function setOpen(v) {
    open = v;
    if (open && !frame) {
      // The chat loads on first open, not with every page view.
      frame = document.createElement('iframe');
      frame.src = origin + '/webchat/embed' + (opt.lang === 'en' ? '?lang=en' : '');
      frame.title = label;
      css(frame, { all: 'initial', width: '100%', height: '100%', border: '0', display: 'block' });
      panel.append(frame);
    }
    css(panel, { display: open ? 'block' : 'none' });
    launcher.setAttribute('aria-expanded', String(open));
    launcher.replaceChildren(open ? closeIcon : chatIcon);
    if (open) unread = 0;
    showUnread();
    layout();
    frame.contentWindow.postMessage({ type: 'idicbot:shown', open }, origin);
    if (open) frame.focus(); else launcher.focus();
  }
  launcher.addEventListener('click', () => setOpen(!open));
  window.addEventListener('resize', layout);
  // The chat's close button and Escape key, from the chat's frame only.
  window.addEventListener('message', (e) => {
    if (!frame || e.source !== frame.contentWindow || e.origin !== origin || !e.data) return;
    if (e.data.type === 'idicbot:close' && open) setOpen(false);
    if (e.data.type === 'idicbot:unread' && !open) { unread++; showUnread(); }
  });

  function mount() {
    document.body.append(panel, launcher, badge);
    if (opt.open === 'true') setOpen(true);
  }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
