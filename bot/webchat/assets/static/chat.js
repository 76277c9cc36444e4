// Web chat page. Message text is always set with textContent, never as
// HTML, so nothing the bot or a user writes can run as script.
'use strict';
(function () {
  var $ = function (s) { return document.querySelector(s); };
  var log = $('#log'), msg = $('#msg'), sendBtn = $('#send'), statusEl = $('#status');
  var fileIn = $('#file'), phoneForm = $('#phoneform'), phoneIn = $('#phone');
  var demo = document.body.dataset.picker === '1';
  var MAX_FILE = 20 * 1024 * 1024;
  // The page's own words, in the chat's language (/ngonngu).
  var CHROME = {
    vi: { title: 'Trợ lý điều phối', subtitle: 'Sở Khoa học và Công nghệ', msg: 'Nhập tin nhắn…', send: 'Gửi', attach: 'Gửi tệp',
      label: 'Tin nhắn', share: '📱 Chia sẻ số điện thoại', sending: 'Đang gửi…',
      busy: 'Hệ thống đang bận, tin nhắn chưa được lưu. Xin gửi lại.',
      offline: 'Không kết nối được máy chủ, tin nhắn chưa được gửi. Xin gửi lại.',
      tooLarge: 'Tệp quá lớn: chỉ gửi được tệp đến 20 MB. Xin chọn tệp nhỏ hơn.' },
    en: { title: 'Coordination assistant', subtitle: 'Department of Science and Technology', msg: 'Type a message…', send: 'Send', attach: 'Send a file',
      label: 'Message', share: '📱 Share my phone number', sending: 'Sending…',
      busy: 'The system is busy; your message was not saved. Please send it again.',
      offline: 'Cannot reach the server; your message was not sent. Please send it again.',
      tooLarge: 'The file is too large: files up to 20 MB can be sent. Please choose a smaller one.' }
  };
  var T = CHROME.vi;

  var box = '', last = 0, inFlight = false, pending = null;

  // Ids work outside secure contexts too (crypto.randomUUID does not).
  function newId() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }
  // A resend of the same thing after a failure reuses its id, so the bot
  // never handles it twice.
  function idFor(key) {
    if (!pending || pending.key !== key) pending = { key: key, id: newId() };
    return pending.id;
  }

  function setStatus(text, isError) {
    statusEl.textContent = text || '';
    statusEl.className = isError ? 'error' : '';
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function fmtSize(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(0) + ' KB';
    return (n / 1024 / 1024).toFixed(1).replace('.', ',') + ' MB';
  }

  // linkTo makes a link that opens in a new tab without giving that tab a
  // handle on this page. Only http(s) addresses ever get here.
  function linkTo(url, label, cls) {
    var a = el('a', cls, label);
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }

  // linkified shows a message's text with every http(s) address as a link.
  // The text is still only ever set as text; a trailing full stop, comma or
  // closing bracket is not part of the address.
  var URL_RE = /https?:\/\/[^\s<>"“”‘’]+/g;
  function linkified(text) {
    var d = el('div', 'text');
    var at = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text)) !== null) {
      var url = m[0].replace(/[.,;:!?)\]}…]+$/, '');
      if (m.index > at) d.appendChild(document.createTextNode(text.slice(at, m.index)));
      d.appendChild(linkTo(url, url, 'url'));
      at = m.index + url.length;
      URL_RE.lastIndex = at;
    }
    if (at < text.length) d.appendChild(document.createTextNode(text.slice(at)));
    return d;
  }

  var pane = $('#chat');
  function scrollDown() { pane.scrollTop = pane.scrollHeight; }

  function render(m) {
    var who = m.from === 'me' ? 'me' : 'bot';
    var row = el('div', 'row ' + who);
    var b = el('div', 'bubble ' + who);
    b.dataset.seq = m.seq;
    if (m.file && m.file.url) {
      var a = el('a', 'file download', '📥 ' + m.file.name + ' (' + fmtSize(m.file.size) + ')');
      a.href = m.file.url;
      a.setAttribute('download', m.file.name);
      b.appendChild(a);
    } else if (m.file) b.appendChild(el('div', 'file', '📎 ' + m.file.name + ' (' + fmtSize(m.file.size) + ')'));
    if (m.text) b.appendChild(linkified(m.text));
    row.appendChild(b);
    var rows = m.buttons || [];
    if (rows.length || m.askContact || m.link) {
      var kb = el('div', 'buttons');
      rows.forEach(function (r) {
        var line = el('div', 'btnrow');
        r.forEach(function (btn) {
          var x = el('button', 'btn', btn.label);
          x.type = 'button';
          x.dataset.payload = btn.data;
          line.appendChild(x);
        });
        kb.appendChild(line);
      });
      if (m.link && /^https?:\/\//.test(m.link.url)) {
        var lrow = el('div', 'btnrow');
        lrow.appendChild(linkTo(m.link.url, m.link.label, 'btn link'));
        kb.appendChild(lrow);
      }
      if (m.askContact) {
        var line = el('div', 'btnrow');
        if (demo) {
          var c = el('button', 'btn contact', T.share);
          c.type = 'button';
          line.appendChild(c);
        } else {
          line.appendChild(el('div', 'hint', 'Trên trang web không chia sẻ được số điện thoại: xin gõ mã mời in trên giấy mời, hoặc mở liên kết mời riêng.'));
        }
        kb.appendChild(line);
      }
      row.appendChild(kb);
    }
    log.appendChild(row);
  }

  // The page chrome follows the chat's language (/ngonngu).
  function setLang(lang) {
    var c = CHROME[lang];
    if (!c) return;
    T = c;
    if (document.documentElement.lang === lang) return;
    document.documentElement.lang = lang;
    $('#title').textContent = c.title;
    $('#subtitle').textContent = c.subtitle;
    msg.placeholder = c.msg;
    msg.setAttribute('aria-label', c.label);
    sendBtn.textContent = c.send;
    sendBtn.setAttribute('aria-label', c.send);
    $('#attach').title = c.attach;
    $('#attach').setAttribute('aria-label', c.attach);
  }

  // The evidence question (its buttons are "ev:…") invites several files.
  function inviteFiles() {
    var rows = log.querySelectorAll('.row.bot');
    var lastRow = rows.length ? rows[rows.length - 1] : null;
    fileIn.multiple = !!lastRow && !!lastRow.querySelector('.btn[data-payload^="ev:"]');
  }

  function apply(p) {
    if (p.lang) setLang(p.lang);
    if (p.reset || p.box !== box) {
      Array.prototype.forEach.call(log.querySelectorAll('.row:not(.intro)'), function (r) { r.remove(); });
      box = p.box; last = 0;
    }
    var added = false;
    (p.messages || []).forEach(function (m) {
      if (m.seq > last) { render(m); last = m.seq; added = true; }
    });
    if (added) { scrollDown(); inviteFiles(); }
  }

  function api(url, opts) {
    opts = opts || {};
    opts.credentials = 'same-origin';
    opts.headers = Object.assign({ 'X-Dieuphoi-Chat': '1' }, opts.headers || {});
    return fetch(url, opts).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (j) {
        if (!res.ok) { var e = new Error(j.error || T.busy); e.status = res.status; throw e; }
        return j;
      });
    }, function () { throw new Error(T.offline); });
  }

  function poll() {
    if (inFlight || document.hidden) return;
    api('/chat/api/messages?after=' + last + '&box=' + encodeURIComponent(box))
      .then(apply, function () { /* the next poll tries again */ });
  }

  // post sends one message. body is an object (JSON) or FormData. shown is
  // what the pending bubble says; onFail runs when it was not handled.
  function post(body, shown, onFail) {
    if (inFlight) return Promise.resolve(false);
    inFlight = true;
    document.body.classList.add('sending');
    setStatus(T.sending);
    var ghost = null;
    if (shown) {
      ghost = el('div', 'row me pending');
      ghost.appendChild(el('div', 'bubble me pending', shown));
      log.appendChild(ghost);
      scrollDown();
    }
    var opts = { method: 'POST' };
    if (body instanceof FormData) {
      body.append('after', String(last));
      body.append('box', box);
      opts.body = body;
    } else {
      body.after = last; body.box = box;
      opts.headers = { 'Content-Type': 'application/json' };
      opts.body = JSON.stringify(body);
    }
    return api('/chat/api/send', opts).then(function (p) {
      if (ghost) ghost.remove();
      pending = null;
      setStatus('');
      apply(p);
      return true;
    }, function (e) {
      if (ghost) ghost.remove();
      setStatus(e.message, true);
      if (onFail) onFail();
      return false;
    }).finally(function () {
      inFlight = false;
      document.body.classList.remove('sending');
    });
  }

  function sendText() {
    var text = msg.value.trim();
    if (!text) { msg.focus(); return; }
    msg.value = '';
    autosize();
    post({ id: idFor('t:' + text), text: text }, text, function () {
      if (!msg.value) { msg.value = text; autosize(); }
    });
  }

  $('#composer').addEventListener('submit', function (e) { e.preventDefault(); sendText(); });
  msg.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendText(); }
  });
  function autosize() {
    msg.style.height = 'auto';
    msg.style.height = Math.min(msg.scrollHeight, 140) + 'px';
  }
  msg.addEventListener('input', autosize);

  log.addEventListener('click', function (e) {
    var b = e.target.closest('button');
    if (!b) return;
    if (b.classList.contains('contact')) {
      phoneForm.hidden = false;
      phoneIn.focus();
      return;
    }
    if (b.dataset.payload) {
      post({ id: idFor('b:' + b.dataset.payload), button: b.dataset.payload }, b.textContent);
    }
  });

  phoneForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var p = phoneIn.value.trim();
    if (!p) { phoneIn.focus(); return; }
    post({ id: idFor('c:' + p), contact: p }, '📱 ' + p).then(function (ok) {
      if (ok) { phoneIn.value = ''; phoneForm.hidden = true; }
    });
  });
  $('#phone-cancel').addEventListener('click', function () { phoneForm.hidden = true; });

  // Several files go one after another, each its own message.
  fileIn.addEventListener('change', function () {
    var files = Array.prototype.slice.call(fileIn.files || []);
    fileIn.value = '';
    var next = function () {
      var f = files.shift();
      if (!f) return;
      if (f.size > MAX_FILE) {
        setStatus(T.tooLarge, true);
        return next();
      }
      var fd = new FormData();
      fd.append('id', idFor('f:' + f.name + ':' + f.size + ':' + f.lastModified));
      fd.append('file', f, f.name);
      post(fd, '📎 ' + f.name + ' (' + fmtSize(f.size) + ')').then(function (ok) { if (ok) next(); });
    };
    next();
  });

  // --- the person picker (demo mode) -----------------------------------------
  var picker = $('#picker');
  if (picker) {
    var fold = function (s) {
      return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
    };
    var search = $('#search');
    search.addEventListener('input', function () {
      var q = fold(search.value.trim());
      var any = false;
      Array.prototype.forEach.call(picker.querySelectorAll('.group'), function (g) {
        var agency = fold(g.querySelector('h2').textContent);
        var shown = 0;
        Array.prototype.forEach.call(g.querySelectorAll('li'), function (li) {
          var ok = !q || (fold(li.textContent) + ' ' + agency).indexOf(q) >= 0;
          li.hidden = !ok;
          if (ok) shown++;
        });
        g.hidden = shown === 0;
        if (shown) any = true;
      });
      $('#no-match').hidden = any;
    });
    var openPicker = function (open) {
      document.body.classList.toggle('picking', open);
      if (open) { search.focus(); } else { scrollDown(); }
    };
    $('#pick-open').addEventListener('click', function () { openPicker(!document.body.classList.contains('picking')); });
    $('#pick-close').addEventListener('click', function () { openPicker(false); });
    picker.addEventListener('click', function (e) {
      var b = e.target.closest('button.person');
      if (!b) return;
      openPicker(false);
      post({ id: idFor('p:' + b.dataset.person), pick: b.dataset.person }, '👤 ' + b.querySelector('.pname').textContent);
    });
  }

  // --- start ----------------------------------------------------------------
  var m = location.pathname.match(/^\/chat\/i\/([^/]+)\/?$/);
  api('/chat/api/messages?after=0&box=').then(apply, function () {}).then(function () {
    if (m) {
      var token = decodeURIComponent(m[1]);
      // Keep the token out of the address bar, history and a reload.
      history.replaceState(null, '', '/chat');
      post({ id: newId(), start: token }, '🔗 Mở liên kết mời');
    }
  });
  setInterval(poll, 3000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
})();
