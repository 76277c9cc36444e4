// Staff console: the desk page's live headcount and camera scanning, the
// print button. Loaded on every page; each part looks for its elements.
(function () {
  'use strict';

  var print = document.getElementById('print');
  if (print) print.addEventListener('click', function () { window.print(); });

  // Live headcount on the check-in desk, every 3 seconds.
  var checked = document.getElementById('h-checkedin');
  if (checked) {
    var set = function (id, v) { var e = document.getElementById(id); if (e && typeof v === 'number') e.textContent = String(v); };
    var poll = function () {
      // The event the desk checks people in to (several open events).
      var ev = document.querySelector('#desk input[name=event]');
      var url = '/admin/api/headcount' + (ev && ev.value ? '?event=' + encodeURIComponent(ev.value) : '');
      fetch(url, { credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (h) { if (h) { set('h-checkedin', h.checkedIn); set('h-expected', h.expected); set('h-invited', h.invited); } })
        .catch(function () {});
    };
    setInterval(poll, 3000);
  }

  // Camera scanning where the browser has BarcodeDetector.
  var cam = document.getElementById('camera');
  var input = document.getElementById('code');
  var form = document.getElementById('desk');
  if (cam && input && form && 'BarcodeDetector' in window && navigator.mediaDevices) {
    cam.hidden = false;
    var video = document.getElementById('preview');
    var scanBtn = document.getElementById('scan');
    var stream = null;
    var stop = function () {
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
      video.hidden = true;
      scanBtn.textContent = 'Quét mã QR bằng camera';
    };
    scanBtn.addEventListener('click', function () {
      if (stream) { stop(); return; }
      var detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false }).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        scanBtn.textContent = 'Tắt camera';
        return video.play();
      }).then(function () {
        var tick = function () {
          if (!stream) return;
          detector.detect(video).then(function (codes) {
            if (codes.length > 0 && codes[0].rawValue) {
              input.value = codes[0].rawValue;
              stop();
              form.submit();
              return;
            }
            setTimeout(tick, 250);
          }).catch(function () { setTimeout(tick, 500); });
        };
        tick();
      }).catch(function () {
        stop();
        scanBtn.textContent = 'Không mở được camera — xin gõ mã';
        input.focus();
      });
    });
  }

  // After a desk check-in, the field is ready for the next person.
  if (input && document.getElementById('result')) { input.value = ''; input.focus(); }
})();

// The meeting's live queue: the list is fetched again every 3 seconds and
// replaced only when it changed, and not while staff are typing in it (an
// answer, a merge number): a button is never swapped under a finger.
(function () {
  'use strict';
  var live = document.getElementById('live');
  if (!live || !live.dataset.src) return;
  var at = document.getElementById('live-at');
  var version = function (root) { var e = root.querySelector('[data-version]'); return e ? e.getAttribute('data-version') : ''; };
  var busy = function () {
    var a = document.activeElement;
    return a && live.contains(a) && (a.tagName === 'INPUT' || a.tagName === 'TEXTAREA') && a.value !== '';
  };
  var poll = function () {
    fetch(live.dataset.src, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        if (at) at.textContent = 'Cập nhật lúc ' + new Date().toLocaleTimeString('vi-VN');
        var m = /data-version="([^"]*)"/.exec(html);
        if (m && m[1] !== version(live) && !busy()) live.innerHTML = html;
      })
      .catch(function () {});
  };
  setInterval(poll, 3000);
})();
