/* Ilmastobotti widget loader. A host page needs one tag:
 *   <script src="https://HOST/widget.js" data-title="…" data-municipality="Laukaa" data-color="#2f6f3e" defer></script>
 * It adds a button that opens the chat (the app's /widget page) in a panel. Everything lives in a shadow root
 * and is styled through the CSSOM, so host styles do not leak in and a strict host CSP does not block it. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.ilmastobottiWidget) return;
  window.ilmastobottiWidget = true;

  var app = new URL(".", script.src); // the app, also when it is served under a path
  var data = script.dataset;
  var color = /^#[0-9a-fA-F]{3,8}$/.test(data.color || "") ? data.color : "#2f6f3e";
  var title = (data.title || "Kysy ilmastotyöstä").slice(0, 80);
  var query = new URLSearchParams({ title: title, color: color, closable: "1" });
  if (data.municipality) query.set("municipality", data.municipality);
  var src = new URL("widget?" + query, app).href;

  function mount() {
    var host = document.createElement("div");
    var root = host.attachShadow({ mode: "open" });

    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Kysy ilmastotyöstä";
    button.setAttribute("aria-label", "Kysy ilmastotyöstä – avaa keskustelu");
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", "ilmastobotti-paneeli");
    Object.assign(button.style, {
      position: "fixed", right: "20px", bottom: "20px", zIndex: "2147483000", background: color, color: "#fff",
      border: "2px solid #fff", borderRadius: "24px", padding: "12px 20px", cursor: "pointer",
      font: "600 16px/1.2 system-ui, -apple-system, 'Segoe UI', sans-serif", boxShadow: "0 4px 14px rgba(0,0,0,.25)"
    });

    var panel = document.createElement("div");
    panel.id = "ilmastobotti-paneeli";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", title);
    Object.assign(panel.style, {
      display: "none", position: "fixed", zIndex: "2147483001", background: "#fff", overflow: "hidden",
      boxShadow: "0 8px 30px rgba(0,0,0,.3)"
    });

    // A phone gets the whole screen; elsewhere a compact panel above the button.
    var phone = window.matchMedia("(max-width: 600px)");
    function layout() {
      Object.assign(panel.style, phone.matches
        ? { top: "0", left: "0", right: "0", bottom: "0", width: "100%", height: "100%", borderRadius: "0" }
        : { top: "auto", left: "auto", right: "20px", bottom: "80px", width: "380px",
            height: "min(600px, calc(100vh - 100px))", borderRadius: "12px" });
    }
    layout();
    phone.addEventListener("change", layout);

    var frame = null;
    function focusChat() {
      frame.focus();
      frame.contentWindow.postMessage("ilmastobotti:focus", app.origin);
    }
    function open() {
      panel.style.display = "block";
      button.setAttribute("aria-expanded", "true");
      if (!frame) { // loaded on first use only: host pages stay light and send nothing until asked
        frame = document.createElement("iframe");
        frame.src = src;
        frame.title = title;
        Object.assign(frame.style, { width: "100%", height: "100%", border: "0", display: "block" });
        frame.addEventListener("load", focusChat);
        panel.appendChild(frame);
      } else {
        focusChat();
      }
    }
    function close() {
      if (panel.style.display === "none") return;
      panel.style.display = "none";
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }

    button.addEventListener("click", function () { panel.style.display === "none" ? open() : close(); });
    host.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });
    window.addEventListener("message", function (event) {
      if (frame && event.source === frame.contentWindow && event.origin === app.origin &&
          event.data === "ilmastobotti:close") close();
    });

    root.appendChild(button);
    root.appendChild(panel);
    document.body.appendChild(host);
  }

  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
