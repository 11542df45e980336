/* Test console: ask one of the company's chatbots as staff; answers stream in over the WebSocket
   (the event stream when it cannot connect), then show the passages given to the answerer. */
(function () {
  "use strict";
  const { el, cookie, websocketUrl } = window.Docent;
  const root = document.getElementById("console");
  const chatbotId = root.dataset.chatbot;
  const log = document.getElementById("console-log");
  const form = document.getElementById("console-form");
  const input = document.getElementById("console-question");
  const send = document.getElementById("console-send");
  let sessionId = null;
  let socket = null;
  let socketFailed = false;

  /* The newest message in view: all of it when it fits in the log, else from its start, so the
     passages and details added after the text do not leave it behind the fold. */
  function reveal(node) {
    log.scrollTop = Math.min(node.offsetTop, log.scrollHeight - log.clientHeight);
  }

  function add(kind, text) {
    const node = el("div", { class: "console-msg " + kind }, el("p", {}, text));
    log.append(node);
    reveal(node);
    return node;
  }

  /* A link to a document Docent serves, or to a cited page of the company's website (http or https only). */
  function documentLink(href, pageUrl) {
    let url = null;
    try { url = href ? new URL(href, location.origin) : null; } catch (e) { /* not a URL */ }
    if (!url || !/^https?:$/.test(url.protocol)) return null;
    const own = url.origin === location.origin;
    if (!own && !(pageUrl && href === pageUrl)) return null;
    return el("a", { href: url.href, target: "_blank", rel: own ? "noopener noreferrer" : "noopener noreferrer nofollow" },
      own ? "Open the document" : "Open the page");
  }

  function answerBubble() {
    const node = add("bot", "…");
    const text = node.querySelector("p");
    let written = "";
    return {
      token(value) { written += value; text.textContent = written; reveal(node); },
      sources(event) {
        if (!event.citations || !event.citations.length) return;
        node.append(el("ol", { class: "console-sources", "aria-label": "Passages given to the answerer" },
          event.citations.map((citation) => el("li", {}, el("details", {},
            el("summary", {}, citation.location + " · score " + citation.score.toFixed(3) +
              (citation.cited ? " · cited" : "")),
            el("blockquote", {}, citation.text)), documentLink(citation.url, citation.page_url)))));
        reveal(node);
      },
      done(event) {
        const mode = { extractive: "quoted from the documents", openai: "written by the language model",
          fallback: "fallback message: nothing relevant found" }[event.mode] || event.mode;
        const meta = el("div", { class: "console-meta" }, "Answer " + mode +
          (event.latency_ms !== undefined ? " · " + event.latency_ms + " ms" : ""));
        if (event.cached) {
          meta.append(" · ", el("span", { class: "console-cached", title: "The same first question was answered " +
            "before from the same documents and settings: this answer comes from the answer cache." }, "cached"));
        }
        node.append(meta);
        reveal(node);
      },
      fail(message) {
        node.classList.add("error");
        text.textContent = (written ? written + "\n\n" : "") + message;
        reveal(node);
      },
    };
  }

  /* One frame or event of the answer; true once the answer is complete. */
  function apply(frame, answer) {
    if (frame.session_id) sessionId = frame.session_id;
    if (frame.type === "token") answer.token(frame.token);
    else if (frame.type === "sources") answer.sources(frame);
    else if (frame.type === "done") answer.done(frame);
    else if (frame.type === "error") answer.fail(frame.error ? frame.error.message : "The answer failed.");
    return frame.type === "done" || frame.type === "error";
  }

  function connect() {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(websocketUrl("/ws/chat/" + chatbotId + "/"));
      ws.onopen = () => { socket = ws; resolve(ws); };
      ws.onclose = () => { socket = null; reject(new Error("no WebSocket")); };
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
      ws.onclose = () => { socket = null; answer.fail("The connection closed before the answer was complete."); resolve(); };
      ws.send(JSON.stringify({ type: "message", message: message, session_id: sessionId }));
    });
  }

  async function viaEventStream(message, answer) {
    const response = await fetch("/api/chat/stream", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRFToken": cookie("csrftoken") },
      body: JSON.stringify({ chatbot_id: chatbotId, message: message, session_id: sessionId }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      return answer.fail(body && body.error ? body.error.message : "Request failed (" + response.status + ").");
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return answer.fail("The answer stopped before it was complete.");
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const data = buffer.slice(0, end).split("\n").find((line) => line.startsWith("data: "));
        buffer = buffer.slice(end + 2);
        if (data && apply(JSON.parse(data.slice(6)), answer)) return reader.cancel();
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message || send.disabled) return;
    send.disabled = true;
    add("user", message);
    input.value = "";
    const answer = answerBubble();
    try {
      if (!socketFailed) {
        try { return await viaSocket(message, answer); } catch (error) { socketFailed = true; }
      }
      await viaEventStream(message, answer);
    } catch (error) {
      answer.fail("Docent could not be reached: " + error.message);
    } finally {
      send.disabled = false;
      input.focus();
    }
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  document.getElementById("console-new").addEventListener("click", () => {
    sessionId = null;
    log.querySelectorAll(".console-msg").forEach((node, index) => { if (index > 0 || !node.classList.contains("bot")) node.remove(); });
    input.focus();
  });
})();
