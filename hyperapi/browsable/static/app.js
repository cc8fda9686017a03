/* hyperapi's browsable API: sign-in, navigation and forms, in plain JavaScript.
 *
 * The API token is kept in this tab's sessionStorage and sent only in the `Authorization: Token …`
 * header, never in a cookie or a URL: every link click and form submit is done here with fetch(),
 * and the page that comes back replaces the document (history.pushState keeps Back working).
 * Without a cookie there is no ambient credential for another site to ride, so there is nothing
 * for CSRF to forge; the API checks the header exactly as for any other client.
 */
(function () {
  "use strict";

  var TOKEN = "hyperapi.token";
  var NOTICE = "hyperapi.notice";

  function token() { return sessionStorage.getItem(TOKEN); }

  function headers(accept) {
    var h = { "Accept": accept };
    var key = token();
    if (key) { h["Authorization"] = "Token " + key; }
    return h;
  }

  function notice(text, bad) {
    var box = document.getElementById("notice");
    if (!box) { return; }
    box.textContent = text;
    box.className = bad ? "notice bad" : "notice";
    box.hidden = false;
  }

  function showPendingNotice() {
    var pending = sessionStorage.getItem(NOTICE);
    if (pending) {
      sessionStorage.removeItem(NOTICE);
      var parsed = JSON.parse(pending);
      notice(parsed.text, parsed.bad);
    }
  }

  function prepare() {
    document.querySelectorAll("[data-needs-js]").forEach(function (el) { el.hidden = false; });
    showPendingNotice();
  }

  function swap(html, url, mode) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    if (mode === "push") { history.pushState({}, "", url); }
    else if (mode === "replace") { history.replaceState({}, "", url); }
    prepare();
    if (mode === "push") { window.scrollTo(0, 0); }
  }

  /* GET a page with the token and show it. A 401 to a request that carried a token means the token
     is bad, expired or revoked: forget it, and show the page an anonymous caller gets. */
  function load(url, mode) {
    var sent = token();
    return fetch(url, { headers: headers("text/html"), credentials: "omit", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401 && sent) {
          sessionStorage.removeItem(TOKEN);
          sessionStorage.setItem(NOTICE, JSON.stringify({ text: "Your token was not accepted: you are signed out.", bad: true }));
          return load(url, mode);
        }
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("text/html") !== 0) {
          return response.text().then(function (text) { showRaw(text, url, mode); });
        }
        return response.text().then(function (html) { swap(html, url, mode); });
      })
      .catch(function (error) { notice("The request failed: " + error, true); });
  }

  function showRaw(text, url, mode) {
    var main = document.querySelector("main");
    var pre = document.createElement("pre");
    pre.className = "raw";
    pre.textContent = text;
    main.replaceChildren(pre);
    if (mode === "push") { history.pushState({}, "", url); }
  }

  /* A file's bytes: fetched with the token, handed to the browser as a download. */
  function download(url) {
    fetch(url, { headers: headers("*/*"), credentials: "omit" }).then(function (response) {
      if (!response.ok) { return load(url, "push"); }
      var disposition = response.headers.get("Content-Disposition") || "";
      var match = /filename="([^"]*)"/.exec(disposition);
      return response.blob().then(function (blob) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = match ? match[1] : "download";
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    });
  }

  function sameOrigin(url) { return url.origin === window.location.origin; }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("[data-action=sign-out]")) {
      sessionStorage.removeItem(TOKEN);
      load(window.location.href, "replace");
      return;
    }
    var a = target.closest("a[href]");
    if (!a || a.target || event.defaultPrevented || event.button !== 0 ||
        event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
    var url = new URL(a.href, window.location.href);
    if (!sameOrigin(url)) { return; }
    event.preventDefault();
    if (a.hasAttribute("data-download")) { download(url.href); return; }
    if (a.hasAttribute("data-raw")) {
      fetch(url.href, { headers: headers("application/json"), credentials: "omit" })
        .then(function (r) { return r.text(); })
        .then(function (text) {
          try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* shown as it came */ }
          showRaw(text, null, "none");
        });
      return;
    }
    load(url.href, "push");
  });

  window.addEventListener("popstate", function () { load(window.location.href, "none"); });

  /* --- forms ------------------------------------------------------------------------------------ */

  function changed(el) {
    if (el.type === "checkbox") { return el.checked !== el.defaultChecked; }
    if (el.tagName === "SELECT") {
      return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return el.value !== el.defaultValue;
  }

  /* The body of a write form: JSON, or multipart when it carries a file. A create sends what was
     filled in (the API applies its defaults to the rest); an edit (PATCH) sends what was changed. */
  function body(form) {
    var method = form.dataset.method;
    var multipart = form.hasAttribute("data-multipart");
    var data = multipart ? new FormData() : {};
    var fields = form.querySelectorAll("[data-type]");
    fields.forEach(function (el) {
      var type = el.dataset.type;
      if (type === "file") {
        if (el.files.length) { data.append(el.name, el.files[0], el.files[0].name); }
        return;
      }
      if (method === "PATCH" && !changed(el)) { return; }
      var value;
      if (type === "bool") { value = el.checked; }
      else if (el.value === "" && method === "POST") { return; }
      else if (type === "json" && !multipart) {
        try { value = JSON.parse(el.value); } catch (e) { value = el.value; } /* the API names the error */
      } else { value = el.value; }
      if (multipart) { data.append(el.name, String(value)); } else { data[el.name] = value; }
    });
    if (multipart) { return { body: data, type: null }; }
    return { body: JSON.stringify(data), type: "application/json" };
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function showErrors(form, answer) {
    var general = form.querySelector("[data-error-for='']");
    var errors = (answer && answer.errors) || {};
    var unplaced = [];
    Object.keys(errors).forEach(function (name) {
      var slot = form.querySelector("[data-error-for='" + CSS.escape(name) + "']");
      if (slot && name) {
        slot.textContent = errors[name];
        var input = form.querySelector("[name='" + CSS.escape(name) + "']");
        if (input) { input.setAttribute("aria-invalid", "true"); }
      } else {
        unplaced.push(name + ": " + errors[name]);
      }
    });
    general.textContent = [(answer && answer.error) || "The request failed."].concat(unplaced).join(" ");
  }

  function readJSON(response) {
    return response.text().then(function (text) {
      try { return JSON.parse(text); } catch (e) { return null; }
    });
  }

  function submitWrite(form) {
    var method = form.dataset.method;
    var confirmText = form.querySelector("[data-confirm]");
    if (confirmText && !window.confirm(confirmText.dataset.confirm)) { return; }
    clearErrors(form);
    var payload = method === "DELETE" ? { body: null, type: null } : body(form);
    var h = headers("application/json");
    if (payload.type) { h["Content-Type"] = payload.type; }
    fetch(form.action, { method: method, headers: h, body: payload.body, credentials: "omit" })
      .then(function (response) {
        if (response.status === 204) {
          sessionStorage.setItem(NOTICE, JSON.stringify({ text: "Done." }));
          return load(form.dataset.next || window.location.href, "push");
        }
        return readJSON(response).then(function (answer) {
          if (response.status === 201) {
            var text = "Created.";
            if (answer && answer.key) { text = "Created. The token's key, shown only this once: " + answer.key; }
            sessionStorage.setItem(NOTICE, JSON.stringify({ text: text }));
            return load(response.headers.get("Location") || window.location.href, "push");
          }
          if (response.ok) {
            sessionStorage.setItem(NOTICE, JSON.stringify({ text: "Saved." }));
            return load(window.location.href, "replace");
          }
          showErrors(form, answer);
        });
      })
      .catch(function (error) { showErrors(form, { error: "The request failed: " + error }); });
  }

  /* A filter form: only the inputs filled in, each named by its field and chosen operator. */
  function submitFilter(form) {
    var params = new URLSearchParams();
    form.querySelectorAll("[name]").forEach(function (el) {
      if (el.value === "") { return; }
      var name = el.name;
      var field = el.dataset.filterValue;
      if (field) {
        var op = form.querySelector("[data-filter-op='" + CSS.escape(field) + "']").value;
        name = op === "exact" ? field : field + "__" + op;
      }
      params.append(name, el.value);
    });
    var query = params.toString();
    load(form.action.split("?")[0] + (query ? "?" + query : ""), "push");
  }

  function signIn(key) {
    sessionStorage.setItem(TOKEN, key);
    sessionStorage.setItem(NOTICE, JSON.stringify({ text: "Signed in." }));
    return load(window.location.href, "replace");
  }

  function submitPassword(form) {
    var error = document.querySelector("[data-sign-in-error]");
    fetch(form.action, {
      method: "POST", credentials: "omit",
      headers: { "Accept": "application/json", "Content-Type": "application/json" },
      body: JSON.stringify({ username: form.elements.username.value, password: form.elements.password.value })
    }).then(function (response) {
      return readJSON(response).then(function (answer) {
        if (response.status === 201 && answer && answer.token) { return signIn(answer.token); }
        error.textContent = (answer && answer.error) || "Unable to sign in.";
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var action = form.dataset.action;
    if (!action) { return; }
    event.preventDefault();
    if (action === "sign-in-token") {
      var key = form.elements.token.value.trim();
      if (key) { signIn(key); }
    } else if (action === "sign-in-password") {
      submitPassword(form);
    } else if (action === "filter") {
      submitFilter(form);
    } else if (action === "write") {
      submitWrite(form);
    }
  });

  /* A page typed into the address bar was fetched without the token: fetch it again with it. */
  function start() {
    prepare();
    if (token() && document.body.dataset.signedIn !== "true") {
      load(window.location.href, "replace");
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
}());
