// GraphiQL (graphiql@3 UMD from /static/vendor) on this origin's /graphql: queries over HTTP,
// subscriptions over graphql-transport-ws on the same path. The browser's sign-in cookie goes
// with both (same origin); no key is kept in the page or in local storage.
//
// The schema comes from /graphql/schema.graphql (a read key suffices), not from introspection,
// which the server answers only for admin keys sent in a header.
(function () {
  "use strict";
  var ws = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
  var fetcher = GraphiQL.createFetcher({
    url: location.origin + "/graphql",
    subscriptionUrl: ws,
  });
  var example = [
    "# Ask the relationship graph: Ctrl-Enter runs the query, the Docs button lists every field.",
    "{",
    "  __typename",
    "}",
    "",
  ].join("\n");
  var mount = document.getElementById("graphiql");

  function show(schema) {
    ReactDOM.createRoot(mount).render(React.createElement(GraphiQL, {
      fetcher: fetcher,
      schema: schema,
      defaultQuery: example,
      shouldPersistHeaders: false,
    }));
  }

  fetch("/graphql/schema.graphql", { credentials: "same-origin" }).then(function (response) {
    if (response.status === 401) {
      location.assign("/signin?next=" + encodeURIComponent(location.pathname));
      return null;
    }
    if (!response.ok) {
      throw new Error("the schema did not load: HTTP " + response.status);
    }
    return response.text();
  }).then(function (sdl) {
    if (sdl !== null) {
      show(GraphiQL.GraphQL.buildSchema(sdl));
    }
  }).catch(function (error) {
    mount.textContent = String(error);
  });
})();
