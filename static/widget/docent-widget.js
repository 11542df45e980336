/* Docent chat widget. GET /api/widget/<chatbot_id> serves this file with the chatbot's public
 * settings in place of the placeholder on the last line; no framework, no build step.
 *
 *   <script src="https://docent.example/api/widget/<chatbot_id>" data-key="dct_pk_…" async></script>
 *
 * The UI lives in a Shadow DOM: the host page's CSS cannot reach in and ours cannot leak out, and
 * the only global is window.DocentWidget. Text from the model or the documents becomes DOM nodes
 * through a small Markdown subset, never HTML. data-mode="inline" (the iframe page) draws the
 * panel full-page, without a launcher.
 */
(function (config) {
  "use strict";

  const UNAVAILABLE = "Chat is unavailable right now. Please try again later.";
  const INTERRUPTED = "The answer was interrupted. Please ask again.";
  const CONNECT_TIMEOUT_MS = 4000;
  const SVG = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat: "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z",
    close: "M6 6l12 12M18 6L6 18",
    new: "M12 5v14M5 12h14",
    send: "M22 2L11 13M22 2l-7 20-4-9-9-4z",
  };

  const registry = (window.DocentWidget = window.DocentWidget || { widgets: {} });
  if (registry.widgets[config.chatbot_id]) return; // the snippet was pasted twice

  const script = document.currentScript ||
    document.querySelector('script[src*="/api/widget/' + config.chatbot_id + '"]');
  const origin = new URL(script.src, location.href).origin;
  const key = script.dataset.key || "";
  const fullPage = script.dataset.mode === "inline";
  const chatbotId = config.chatbot_id;
  const theme = config.theme;
  if (!key) console.warn("Docent: the script tag has no data-key; chatting will be refused.");

  /* Storage may be blocked (privacy modes, sandboxed frames): then ids last as long as the page. */
  const store = {
    get(name) {
      try { return localStorage.getItem("docent:" + name); } catch (e) { return null; }
    },
    set(name, value) {
      try {
        if (value === null) localStorage.removeItem("docent:" + name);
        else localStorage.setItem("docent:" + name, value);
      } catch (e) { /* kept in memory only */ }
    },
  };
  const SESSION = "session:" + chatbotId;
  const SECRET = "secret:" + chatbotId;
  const visitorId = store.get("visitor") || randomId();
  store.set("visitor", visitorId);
  /* The server reopens a conversation only with the secret it gave with the conversation's first answer. */
  let sessionId = store.get(SESSION);
  let conversationSecret = store.get(SECRET);

  function randomId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16)); // 128 bits, also on plain-http pages
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function saveSession(id, secret) {
    sessionId = id;
    conversationSecret = secret;
    store.set(SESSION, id);
    store.set(SECRET, secret);
  }

  /* h("p", {class: "x"}, ["text", node]): strings always become text nodes. */
  function h(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const name in attrs || {}) node.setAttribute(name, attrs[name]);
    node.append(...[].concat(children === undefined ? [] : children));
    return node;
  }

  function icon(name) {
    const svg = document.createElementNS(SVG, "svg");
    const path = document.createElementNS(SVG, "path");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  /* ---- Markdown subset: paragraphs, headings as bold lines, lists, code, bold, https links ---- */
  const FENCE = /^\s*```/;
  const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+/;
  const HEADING = /^#{1,6}\s+/;
  // `code` | **bold** | [label](url, parentheses one level deep) | a bare https URL without trailing punctuation
  const INLINE = /`([^`\n]+)`|\*\*([^*\n]+)\*\*|\[([^\]\n]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)|(https:\/\/[^\s<>()]*[^\s<>().,;:!?'"])/g;

  function markdown(text) {
    const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
    const blocks = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (FENCE.test(line)) {
        const code = [];
        for (i++; i < lines.length && !FENCE.test(lines[i]); i++) code.push(lines[i]);
        i++;
        blocks.push(h("pre", {}, h("code", {}, code.join("\n"))));
      } else if (LIST_ITEM.test(line)) {
        const list = h(/^\s*\d/.test(line) ? "ol" : "ul");
        for (; i < lines.length && LIST_ITEM.test(lines[i]); i++) {
          list.append(h("li", {}, inline(lines[i].replace(LIST_ITEM, ""))));
        }
        blocks.push(list);
      } else if (HEADING.test(line)) {
        blocks.push(h("p", {}, h("strong", {}, inline(line.replace(HEADING, "")))));
        i++;
      } else if (!line.trim()) {
        i++;
      } else {
        const paragraph = h("p");
        for (let first = true; i < lines.length && isParagraphLine(lines[i]); i++, first = false) {
          if (!first) paragraph.append(h("br"));
          paragraph.append(...inline(lines[i]));
        }
        blocks.push(paragraph);
      }
    }
    return blocks;
  }

  function isParagraphLine(line) {
    return line.trim() && !FENCE.test(line) && !LIST_ITEM.test(line) && !HEADING.test(line);
  }

  function inline(text) {
    const nodes = [];
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      nodes.push(text.slice(last, match.index));
      if (match[1]) nodes.push(h("code", {}, match[1]));
      else if (match[2]) nodes.push(h("strong", {}, inline(match[2])));
      else nodes.push(link(match[3] || match[5], match[4] || match[5]));
      last = match.index + match[0].length;
    }
    nodes.push(text.slice(last));
    return nodes;
  }

  function link(label, href) {
    let url = null;
    try { url = new URL(href); } catch (e) { /* not a URL: show the label only */ }
    if (!url || url.protocol !== "https:") return label;
    return h("a", { href: url.href, target: "_blank", rel: "noopener noreferrer nofollow" }, label);
  }

  /* ---- The UI ---- */
  const STYLE = `
:host{all:initial!important}
.root{all:initial;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--text)}
.root *{box-sizing:border-box}
[hidden]{display:none!important}
button,textarea{font:inherit;color:inherit;margin:0}
button{cursor:pointer}
button:disabled{opacity:.5;cursor:default}
:focus-visible{outline:2px solid var(--primary);outline-offset:2px}
header :focus-visible{outline-color:var(--on-primary)}
svg{width:22px;height:22px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:56px;height:56px;border:0;border-radius:50%;
 background:var(--primary);color:var(--on-primary);display:flex;align-items:center;justify-content:center;
 box-shadow:0 4px 14px rgba(0,0,0,.25)}
.launcher svg{width:26px;height:26px}
.off .launcher{filter:grayscale(1);opacity:.8}
.badge{position:absolute;bottom:60px;right:0;white-space:nowrap;background:#1c2430;color:#fff;font-size:12px;
 padding:2px 8px;border-radius:999px}
.panel{position:fixed;bottom:88px;right:20px;z-index:2147483000;width:370px;max-width:calc(100vw - 40px);height:560px;
 max-height:calc(100vh - 108px);display:flex;flex-direction:column;overflow:hidden;background:var(--background);
 color:var(--text);border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25)}
.left .launcher,.left .panel{right:auto;left:20px}
.left .badge{right:auto;left:0}
.full .panel{inset:0;width:auto;height:auto;max-width:none;max-height:none;border-radius:0;box-shadow:none}
header{display:flex;align-items:center;gap:10px;padding:12px 14px;background:var(--primary);color:var(--on-primary)}
h2{flex:1;margin:0;font-size:15px;font-weight:600;overflow-wrap:anywhere}
.avatar{width:28px;height:28px;border-radius:50%;object-fit:cover}
.icon{display:flex;align-items:center;justify-content:center;width:32px;height:32px;padding:0;border:0;
 border-radius:8px;background:transparent}
.icon svg{width:20px;height:20px}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px}
.msg{max-width:85%;padding:8px 12px;border-radius:12px;overflow-wrap:anywhere}
.msg p,.msg ul,.msg ol,.msg pre{margin:0}
.msg>*+*,.text>*+*{margin-top:6px}
.msg ul,.msg ol{padding-left:20px}
.bot{align-self:flex-start;background:rgba(127,127,127,.13);border-bottom-left-radius:4px}
.user{align-self:flex-end;background:var(--primary);color:var(--on-primary);border-bottom-right-radius:4px;
 white-space:pre-wrap}
.notice{align-self:stretch;max-width:none;background:#fdecea;color:#8a1c11;border:1px solid #f3b8b0}
code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:rgba(127,127,127,.16);
 padding:1px 4px;border-radius:4px}
pre{overflow-x:auto;background:rgba(127,127,127,.16);padding:8px;border-radius:6px}
pre code{background:none;padding:0}
a{color:inherit;text-decoration:underline}
.sources{font-size:12px;opacity:.85}
.sources ul{margin:2px 0 0}
.rating{display:flex;flex-wrap:wrap;align-items:center;gap:4px;font-size:12px}
.rate{border:1px solid;background:none;border-radius:6px;padding:1px 8px;font:inherit;color:inherit;opacity:.8}
.rate[aria-pressed=true]{opacity:1;font-weight:600;background:rgba(0,0,0,.06)}
.comment{display:flex;gap:4px;flex-basis:100%}
.comment input{flex:1;min-width:0;font:inherit;padding:4px}
.preparing{font-style:italic;opacity:.75;animation:docent-preparing 1.6s ease-in-out infinite}
@keyframes docent-preparing{50%{opacity:.4}}
@media (prefers-reduced-motion:reduce){.preparing{animation:none}}
.suggestions{display:flex;flex-wrap:wrap;gap:6px;padding:0 14px 10px}
.suggestion{border:1px solid var(--primary);background:transparent;border-radius:999px;padding:5px 12px;text-align:left}
form{display:flex;gap:8px;padding:10px 14px;border-top:1px solid rgba(127,127,127,.25)}
textarea{flex:1;resize:none;min-height:38px;max-height:120px;padding:8px;border:1px solid rgba(127,127,127,.45);
 border-radius:8px;background:transparent}
.send{width:40px;border:0;border-radius:8px;background:var(--primary);color:var(--on-primary);display:flex;
 align-items:center;justify-content:center}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){.panel{inset:0;width:auto;height:auto;max-width:none;max-height:none;border-radius:0}}`;

  const host = document.createElement("docent-chat");
  const shadow = host.attachShadow({ mode: "open" });
  if (shadow.adoptedStyleSheets !== undefined && window.CSSStyleSheet) {
    // A constructed sheet also works where the host page's CSP forbids inline <style>.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    shadow.append(h("style", {}, STYLE));
  }

  const root = h("div", { class: "root" + (fullPage ? " full" : "") + (theme.position === "left" ? " left" : "") +
    (config.is_active ? "" : " off") });
  [["--primary", "primary_color"], ["--on-primary", "primary_text_color"], ["--background", "background_color"],
    ["--text", "text_color"]].forEach(([property, name]) => root.style.setProperty(property, theme[name]));

  const log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  const suggestions = h("div", { class: "suggestions", role: "group", "aria-label": "Suggested questions" },
    config.suggested_questions.map((question) => {
      const button = h("button", { type: "button", class: "suggestion" }, question);
      button.addEventListener("click", () => ask(question));
      return button;
    }));
  const input = h("textarea", { id: "docent-input", rows: "1", placeholder: "Ask a question…" });
  const send = h("button", { type: "submit", class: "send", "aria-label": "Send" }, icon("send"));
  const form = h("form", {}, [h("label", { class: "sr-only", for: "docent-input" }, "Your message"), input, send]);
  const newButton = h("button", { type: "button", class: "icon", "aria-label": "New conversation",
    title: "New conversation" }, icon("new"));
  const closeButton = h("button", { type: "button", class: "icon", "aria-label": "Close chat" }, icon("close"));
  const header = h("header", {}, [
    theme.avatar_url ? h("img", { class: "avatar", src: theme.avatar_url, alt: "" }) : "",
    h("h2", { id: "docent-title" }, config.title),
    config.is_active ? newButton : "",
    fullPage ? "" : closeButton,
  ]);
  const panel = h("section", { class: "panel", id: "docent-panel", role: fullPage ? "region" : "dialog",
    "aria-labelledby": "docent-title" }, [header, log, suggestions, form]);
  const launcher = h("button", { type: "button", class: "launcher", "aria-controls": "docent-panel",
    "aria-expanded": "false", "aria-label": "Chat with " + config.title + (config.is_active ? "" : " (unavailable)") },
  [icon("chat"), config.is_active ? "" : h("span", { class: "badge", "aria-hidden": "true" }, "Unavailable")]);

  panel.hidden = !fullPage;
  root.append(fullPage ? "" : launcher, panel);
  shadow.append(root);

  let busy = false;
  let historyLoaded = false;

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function addMessage(role, content) {
    const node = h("div", { class: "msg " + role }, role === "bot" ? markdown(content) : content);
    log.append(node);
    scrollDown();
    return node;
  }

  /* Sources as the chat API gives them: "report.pdf page 2", "prices.xlsx sheet Q3 row 15"; each a link to
   * its document when the chatbot lets visitors open them (`urls`, beside the sources). */
  function sourceList(list, urls) {
    return h("div", { class: "sources" }, [h("strong", {}, "Sources"),
      h("ul", {}, list.map((source, index) => h("li", {}, documentLink(String(source), (urls || [])[index]))))]);
  }

  /* Only a link to Docent's own http(s) address, or to a cited web page whose http(s) address is the label
   * itself (the visitor reads where it goes): any other URL, or none, leaves the label as text. */
  function documentLink(label, href) {
    let url = null;
    try { url = href ? new URL(href, origin) : null; } catch (e) { /* not a URL */ }
    if (!url || !/^https?:$/.test(url.protocol)) return label;
    const own = url.origin === origin;
    if (!own && !sameUrl(label, url)) return label;
    return h("a", { href: url.href, target: "_blank", rel: own ? "noopener noreferrer" : "noopener noreferrer nofollow" },
      label);
  }

  function sameUrl(label, url) {
    try { return new URL(label).href === url.href; } catch (e) { return false; }
  }

  /* Thumbs up or down under an answer; after "down", an optional comment on what was missing. */
  function rating(messageId) {
    const status = h("span", { class: "thanks", role: "status" });
    const buttons = ["up", "down"].map((value) => {
      const button = h("button", { type: "button", class: "rate", "aria-pressed": "false",
        "aria-label": value === "up" ? "Helpful" : "Not helpful" }, value === "up" ? "Yes" : "No");
      button.addEventListener("click", () => rate(value, ""));
      return button;
    });
    const row = h("div", { class: "rating" }, [h("span", { "aria-hidden": "true" }, "Helpful?"), ...buttons, status]);
    async function rate(value, comment) {
      buttons.forEach((button, index) => button.setAttribute("aria-pressed", String(["up", "down"][index] === value)));
      const sent = await feedback({ message_id: messageId, rating: value, comment: comment });
      status.textContent = sent ? "Thanks for your feedback." : "Your feedback could not be sent.";
      if (sent && value === "down" && !comment && !row.querySelector("form")) row.append(commentForm(rate));
      return sent;
    }
    return row;
  }

  function commentForm(rate) {
    const field = h("input", { type: "text", maxlength: "1000", "aria-label": "What was missing?",
      placeholder: "What was missing? (optional)" });
    const send = h("button", { type: "submit", "aria-label": "Send comment" }, "Send");
    const form = h("form", { class: "comment" }, [field, send]);
    // The comment stays on screen until the server has it: a failed send keeps it, to send again.
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const comment = field.value.trim();
      if (!comment) return form.remove();
      field.disabled = send.disabled = true;
      if (await rate("down", comment)) form.remove();
      else field.disabled = send.disabled = false;
    });
    return form;
  }

  async function feedback(body) {
    try {
      const response = await fetch(origin + "/api/conversations/" + encodeURIComponent(sessionId) + "/feedback", {
        method: "POST", headers: ofConversation({ "Content-Type": "application/json" }), body: JSON.stringify(body),
        keepalive: true });  // a rating sent just before the visitor leaves the page still arrives
      return response.ok;
    } catch (e) {
      return false;
    }
  }

  function greet() {
    log.replaceChildren();
    if (!config.is_active) addMessage("notice", "This chat is unavailable right now.");
    else if (config.welcome_message) addMessage("bot", config.welcome_message);
    suggestions.hidden = !config.is_active || !config.suggested_questions.length;
  }

  /* One answer being written: tokens are re-rendered as Markdown at most every 50 ms. */
  function answerBubble() {
    // Until the first words arrive (finding the passages, a model's first token), say what is going on.
    const text = h("div", { class: "text" }, h("span", { class: "preparing", role: "status" }, "Preparing the answer…"));
    const node = h("div", { class: "msg bot" }, text);
    log.append(node);
    log.setAttribute("aria-busy", "true"); // screen readers announce the answer once it is complete
    scrollDown();
    let written = "";
    let timer = null;
    let finished = false;
    function render() {
      timer = null;
      text.replaceChildren(...markdown(written));
      scrollDown();
    }
    function finish() {
      finished = true;
      clearTimeout(timer);
      if (written) render();
      log.setAttribute("aria-busy", "false");
    }
    return {
      token(value) {
        written += value;
        if (!timer) timer = setTimeout(render, 50);
      },
      sources(list, urls) {
        if (list && list.length) node.append(sourceList(list, urls));
      },
      done(messageId) {
        finish();
        if (messageId) node.append(rating(messageId));
      },
      fail(message) {
        if (finished) return;
        finish();
        if (!written) node.remove();
        addMessage("notice", message);
      },
    };
  }

  /* Applies one frame from the server; true when the answer is complete. A secret comes with the first
   * answer of a conversation, the server's new one when it did not know the pair sent. */
  function apply(frame, answer) {
    if (frame.conversation_secret) saveSession(frame.session_id, frame.conversation_secret);
    if (frame.type === "token") answer.token(frame.token || "");
    else if (frame.type === "sources") answer.sources(frame.sources, frame.source_urls);
    else if (frame.type === "error") answer.fail(frame.message || (frame.error && frame.error.message) || UNAVAILABLE);
    else if (frame.type === "done") answer.done(frame.message_id);
    return frame.type === "error" || frame.type === "done";
  }

  /* ---- Transport: a WebSocket, or Server-Sent Events over POST when it cannot connect ---- */
  let socket = null;
  let socketFailed = false;

  function connect() {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    const url = origin.replace(/^http/, "ws") + "/ws/chat/" + chatbotId + "/?key=" + encodeURIComponent(key);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const timer = setTimeout(() => ws.close(), CONNECT_TIMEOUT_MS);
      ws.onopen = () => {
        clearTimeout(timer);
        socket = ws;
        resolve(ws);
      };
      ws.onclose = () => {
        clearTimeout(timer);
        reject(new Error("no WebSocket"));
      };
    });
  }

  async function viaSocket(message, answer) {
    const ws = await connect();
    return new Promise((resolve, reject) => {
      ws.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        // Over the server's cap on open sockets (it closes this one): ask over the event stream instead.
        if (frame.type === "error" && frame.error && frame.error.code === "too_many_sockets") {
          ws.onmessage = null;
          ws.onclose = () => { socket = null; };
          return reject(new Error("too many sockets"));
        }
        if (apply(frame, answer)) resolve();
      };
      ws.onclose = () => {
        socket = null;
        answer.fail(INTERRUPTED);
        resolve();
      };
      ws.send(JSON.stringify(questionBody(message, { type: "message" })));
    });
  }

  function questionBody(message, fields) {
    return Object.assign(fields, { message: message, session_id: sessionId,
      conversation_secret: conversationSecret, visitor_id: visitorId });
  }

  function authorized(headers) {
    return Object.assign({ Authorization: "Bearer " + key }, headers);
  }

  /* Requests about the current conversation, whose id is in the path: its secret goes in a header. */
  function ofConversation(headers) {
    const secret = conversationSecret ? { "X-Conversation-Secret": conversationSecret } : {};
    return authorized(Object.assign(secret, headers));
  }

  async function errorMessage(response) {
    const body = await response.json().catch(() => null);
    // 404: no chat endpoint or no such chatbot here; 5xx: our fault. Other refusals say what to do.
    const actionable = response.status < 500 && response.status !== 404 && body && body.error;
    return actionable ? body.error.message : UNAVAILABLE;
  }

  async function viaEventStream(message, answer) {
    const response = await fetch(origin + "/api/chat/stream", {
      method: "POST",
      headers: authorized({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify(questionBody(message, { chatbot_id: chatbotId })),
    });
    if (!response.ok) return answer.fail(await errorMessage(response));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return answer.fail(INTERRUPTED);
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (frame && apply(frame, answer)) return reader.cancel();
      }
    }
  }

  /* "event: token\ndata: {...}" → the data's object, its type defaulting to the event's name. */
  function parseEvent(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return null;
    const frame = JSON.parse(data.join("\n"));
    frame.type = frame.type || event;
    return frame;
  }

  async function ask(question) {
    const message = question.trim();
    if (!message || busy || !config.is_active) return;
    setBusy(true);
    suggestions.hidden = true;
    addMessage("user", message);
    const answer = answerBubble();
    try {
      if (!socketFailed) {
        try {
          return await viaSocket(message, answer);
        } catch (e) {
          socketFailed = true; // no WebSocket here (proxy, server): use the event stream from now on
        }
      }
      await viaEventStream(message, answer);
    } catch (e) {
      // A site not yet among the allowed origins ends here too (the browser hides the refusal's reason):
      // its visitors read a neutral message, its developer the way out.
      console.warn("Docent: the chat could not reach " + origin + ". If " + location.origin + " is your site, " +
        "add it to the chatbot's allowed origins in Docent (Chatbots → Embed & keys).");
      answer.fail(UNAVAILABLE);
    } finally {
      setBusy(false);
    }
  }

  function setBusy(value) {
    busy = value;
    send.disabled = newButton.disabled = value;
    suggestions.querySelectorAll("button").forEach((button) => { button.disabled = value; });
  }

  async function loadHistory() {
    historyLoaded = true;
    try {
      const response = await fetch(origin + "/api/conversations/" + encodeURIComponent(sessionId),
        { headers: ofConversation({ Accept: "application/json" }) });
      if (!response.ok) {
        if (response.status === 404) saveSession(null, null); // unknown, or not opened by our secret: start afresh
        return;
      }
      const conversation = await response.json();
      if (!conversation.messages || !conversation.messages.length) return;
      suggestions.hidden = true;
      conversation.messages.forEach((item) => {
        const node = addMessage(item.role === "user" ? "user" : "bot", item.content || "");
        if (item.role !== "user" && item.sources && item.sources.length) {
          node.append(sourceList(item.sources, item.source_urls));
        }
      });
    } catch (e) { /* the welcome stays; the next answer continues the conversation */ }
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    if (sessionId && !historyLoaded) loadHistory();
    (config.is_active ? input : closeButton).focus();
  }

  function close() {
    if (fullPage) return;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function submitInput() {
    if (busy) return;
    const message = input.value;
    input.value = "";
    fitInput();
    ask(message);
  }

  function fitInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  function newConversation() {
    saveSession(null, null);
    historyLoaded = true;
    greet();
    input.focus();
  }

  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  newButton.addEventListener("click", newConversation);
  root.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      event.stopPropagation();
      close();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitInput();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { // Shift+Enter: a new line
      event.preventDefault();
      submitInput();
    }
  });
  input.addEventListener("input", fitInput);

  greet();
  form.hidden = !config.is_active;
  if (fullPage && sessionId) loadHistory();
  const mount = () => document.body.append(host);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
  registry.widgets[chatbotId] = { open: open, close: close, newConversation: newConversation };
})(/*DOCENT_CONFIG*/null);
