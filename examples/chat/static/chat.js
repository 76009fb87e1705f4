// The chat page: AutobahnJS in the browser, talking to the chat component
// through the app's own WAMP endpoint.
"use strict";

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"), joinForm: $("join-form"), nick: $("nick"), join: $("join"),
  joinError: $("join-error"), room: $("room"), messages: $("messages"),
  sayForm: $("say-form"), text: $("text"), online: $("online"), me: $("me"),
};

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function showMessage(line) {
  const item = document.createElement("li");
  const nick = document.createElement("span");
  nick.className = "nick";
  nick.textContent = line.nick;
  item.append(nick, document.createTextNode(line.text));
  ui.messages.append(item);
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function showOnline(nicks) {
  ui.online.replaceChildren(...nicks.map((nick) => {
    const item = document.createElement("li");
    item.textContent = nick;
    return item;
  }));
}

if (typeof autobahn === "undefined") {
  setStatus("lost", "AutobahnJS is missing: run `npm ci` in examples/chat/web");
} else {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const connection = new autobahn.Connection({ url: scheme + location.host + "/ws", realm: "realm1" });
  let session = null;
  let nick = null;

  connection.onopen = async (opened) => {
    session = opened;
    await session.subscribe("com.example.chat.message", (args, kwargs) => showMessage(kwargs));
    await session.subscribe("com.example.chat.presence", (args) => showOnline(args[0]));
    // Ready only once subscribed: nothing said after joining can be missed.
    setStatus("connected", "connected");
    ui.join.disabled = false;
    if (nick !== null) {
      await join(nick); // back after a reconnect: join again
    }
  };

  connection.onclose = (reason) => {
    session = null;
    ui.join.disabled = true;
    setStatus("lost", reason === "closed" ? "closed" : "reconnecting…");
  };

  async function join(wanted) {
    try {
      const joined = await session.call("com.example.chat.join", [wanted]);
      nick = wanted;
      ui.joinError.textContent = "";
      ui.messages.replaceChildren();
      joined.kwargs.history.forEach(showMessage);
      showOnline(joined.kwargs.online);
      ui.me.textContent = "as " + wanted;
      ui.me.hidden = false;
      ui.joinForm.hidden = true;
      ui.room.hidden = false;
      ui.text.focus();
    } catch (error) {
      // An application error: its URI and message, as the component sent them.
      ui.joinError.textContent = error.kwargs?.message || error.args?.[0] || error.error || String(error);
    }
  }

  ui.joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (session) {
      join(ui.nick.value.trim());
    }
  });

  ui.sayForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.text.value.trim();
    if (session && text) {
      // Everyone receives it, this page too, in the order the router saw.
      session.publish("com.example.chat.message", [], { nick, text }, { exclude_me: false });
      ui.text.value = "";
    }
  });

  connection.open();
}
