// The graphql-transport-ws protocol, the few messages a subscription needs: connection_init,
// connection_ack, subscribe, next, error, complete, ping/pong. The sign-in cookie authenticates
// the websocket (same origin), so connection_init carries no key. A dropped connection is opened
// again with a growing pause; `onOpen` runs after each acknowledged connection, so a screen can
// fetch what it missed meanwhile.

const PROTOCOL = "graphql-transport-ws";
const decoder = new TextDecoder();

export class Subscription {
  constructor({ query, variables, onNext, onState, onError, onOpen }) {
    this.query = query;
    this.variables = variables;
    this.onNext = onNext;
    this.onState = onState || (() => {});
    this.onError = onError || (() => {});
    this.onOpen = onOpen || (() => {});
    this.pause = 1000;
    this.stopped = false;
    this.opens = 0;
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000, "done");
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/graphql`, PROTOCOL);
    socket.binaryType = "arraybuffer"; // the server may send its JSON in binary frames
    this.socket = socket;
    this.onState("connecting");
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: {} })));
    socket.addEventListener("message", (event) => this.receive(socket, event.data));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket || this.stopped) return;
      if (event.code === 4403 || event.code === 4401) {
        this.onState("refused");
        this.onError("The server refused the live feed: sign in again.");
        return;
      }
      this.onState("reconnecting");
      setTimeout(() => this.connect(), this.pause);
      this.pause = Math.min(this.pause * 2, 15000);
    });
  }

  receive(socket, data) {
    let message;
    try {
      message = JSON.parse(typeof data === "string" ? data : decoder.decode(data));
    } catch (_) {
      return;
    }
    switch (message.type) {
      case "connection_ack":
        socket.send(JSON.stringify({ id: "feed", type: "subscribe", payload: { query: this.query, variables: this.variables } }));
        this.pause = 1000;
        this.onState("live");
        this.onOpen(this.opens++);
        break;
      case "ping":
        socket.send(JSON.stringify({ type: "pong", payload: message.payload }));
        break;
      case "next":
        if (message.payload && message.payload.errors && message.payload.errors.length) {
          this.onError(message.payload.errors[0].message);
        }
        if (message.payload && message.payload.data) this.onNext(message.payload.data);
        break;
      case "error":
        this.onState("refused");
        this.onError((message.payload && message.payload[0] && message.payload[0].message) || "the subscription was refused");
        socket.close(1000, "refused");
        this.stopped = true;
        break;
      case "complete":
        socket.close(1000, "complete");
        break;
      default:
        break;
    }
  }
}
