/* Shared helpers of the dashboard pages: CSRF-aware API calls, safe DOM building, and the Copy
   buttons (data-copy names the element whose text they copy). */
(function () {
  "use strict";

  function cookie(name) {
    const match = document.cookie.match("(^|;)\\s*" + name + "=([^;]*)");
    return match ? decodeURIComponent(match[2]) : "";
  }

  async function api(method, url, body) {
    const options = { method: method, headers: { "X-CSRFToken": cookie("csrftoken"), Accept: "application/json" },
      credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const message = data && data.error ? data.error.message : "Request failed (" + response.status + ").";
      throw Object.assign(new Error(message), { details: data && data.error ? data.error.details : null });
    }
    return data;
  }

  /* el("td", {class: "x"}, "text", childNode): text is always set as text, never as HTML. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
    });
    children.flat().forEach((child) => {
      if (child === null || child === undefined || child === false) return;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  function websocketUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  function announce(text) {
    document.getElementById("announcer").textContent = text;
  }

  /* The clipboard needs a secure context (https or localhost); elsewhere the text is selected instead. */
  async function copy(button) {
    const source = document.getElementById(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(source.textContent);
      announce("Copied to the clipboard.");
    } catch (error) {
      const range = document.createRange();
      range.selectNodeContents(source);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      announce("Selected: press Ctrl+C (or ⌘C) to copy.");
    }
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (button) copy(button);
  });

  window.Docent = { api: api, el: el, cookie: cookie, websocketUrl: websocketUrl };
})();
