/* Pledge consent banner: no framework, no dependency. Markup and settings come from the
   snippet (pledge/web/banner/snippet.html); the consent cookie's format is defined in
   pledge/web/consent_cookie.py. See docs/web.md. */
(function () {
  "use strict";
  var me = document.currentScript;
  var box = document.getElementById("pledge-banner");
  function list(name) {
    return (me.getAttribute(name) || "").split(" ").filter(Boolean);
  }
  var offered = list("data-categories");
  var rule = me.getAttribute("data-dnt");
  var days = +me.getAttribute("data-days") || 365;
  var gpc = navigator.globalPrivacyControl === true;
  var dnt = navigator.doNotTrack === "1" || window.doNotTrack === "1";
  var off = [];
  if (gpc || (dnt && rule === "opt_out_of_sale_or_sharing")) off = list("data-sharing");
  if (dnt && rule === "refuse_optional") off = offered;
  var MODE = {
    analytics: ["analytics_storage"],
    advertising: ["ad_storage", "ad_user_data", "ad_personalization"],
    preferences: ["functionality_storage", "personalization_storage"]
  };

  window.dataLayer = window.dataLayer || [];
  function gtag() {
    window.dataLayer.push(arguments);
  }
  function mode(allowed) {
    var m = { security_storage: "granted" };
    Object.keys(MODE).forEach(function (c) {
      MODE[c].forEach(function (k) {
        m[k] = allowed.indexOf(c) < 0 ? "denied" : "granted";
      });
    });
    return m;
  }
  function has(a, x) {
    return a.indexOf(x) >= 0;
  }
  function usable(a) {
    return a.filter(function (c) {
      return has(offered, c) && !has(off, c);
    });
  }
  function read() {
    var m = document.cookie.match(/(?:^|;\s*)pledge_consent=([0-9a-f]{32}):([a-z+]*):([a-z+]*)/);
    function split(s) {
      return s ? s.split("+") : [];
    }
    return m && { receipt: m[1], allowed: split(m[2]), refused: split(m[3]) };
  }

  var saved = read();
  var allowed = saved ? usable(saved.allowed) : [];
  gtag("consent", "default", mode([]));
  if (allowed.length) gtag("consent", "update", mode(allowed));

  function activate() {
    var inert = document.querySelectorAll('script[type="text/plain"][data-category]');
    Array.prototype.forEach.call(inert, function (old) {
      if (!has(allowed, old.getAttribute("data-category"))) return;
      var live = document.createElement("script");
      Array.prototype.forEach.call(old.attributes, function (a) {
        if (a.name !== "type") live.setAttribute(a.name, a.value);
      });
      live.text = old.text;
      old.parentNode.replaceChild(live, old);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", activate);
  else activate();

  if (!box) return;
  var boxes = box.querySelectorAll("input[name=category]");
  var choices = document.getElementById("pledge-choices");
  var choose = box.querySelector("[data-pledge=choose]");
  var save = box.querySelector("[data-pledge=save]");
  var status = box.querySelector("[data-pledge=status]");
  box.querySelector("[data-pledge=signal]").hidden = !off.length;

  function show() {
    Array.prototype.forEach.call(boxes, function (b) {
      b.disabled = has(off, b.value);
      b.checked = has(allowed, b.value);
    });
    box.hidden = false;
  }
  function answer(chosen) {
    var before = allowed;
    fetch(me.getAttribute("data-endpoint"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ receipt: saved ? saved.receipt : null, allowed: usable(chosen), gpc: gpc, dnt: dnt })
    })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (r) {
        document.cookie = "pledge_consent=" + r.cookie + "; Max-Age=" + days * 86400 + "; Path=/; SameSite=Lax" +
          (location.protocol === "https:" ? "; Secure" : "");
        saved = read();
        allowed = usable(r.allowed);
        gtag("consent", "update", mode(allowed));
        box.hidden = true;
        status.textContent = "";
        if (before.some(function (c) { return !has(allowed, c); })) location.reload();
        else activate();
      })
      .catch(function () {
        status.textContent = status.getAttribute("data-failed");
      });
  }
  box.addEventListener("click", function (e) {
    var what = e.target.getAttribute && e.target.getAttribute("data-pledge");
    if (what === "accept") answer(offered);
    else if (what === "refuse") answer([]);
    else if (what === "save")
      answer(Array.prototype.filter.call(boxes, function (b) { return b.checked; }).map(function (b) { return b.value; }));
    else if (what === "choose") {
      var open = choices.hidden;
      choices.hidden = !open;
      save.hidden = !open;
      choose.setAttribute("aria-expanded", String(open));
    }
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-pledge-open]")) show();
  });
  window.PledgeConsent = { open: show, allowed: function () { return allowed.slice(); } };
  var undecided = usable(offered).some(function (c) {
    return !saved || (!has(saved.allowed, c) && !has(saved.refused, c));
  });
  if (undecided) show();
})();
