/* Shared helpers of the dashboard pages: CSRF-aware API calls and safe DOM building. */
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

  window.Docent = { api: api, el: el, cookie: cookie, websocketUrl: websocketUrl };
})();
