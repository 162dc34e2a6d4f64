// Replaces the plain form by YASGUI (one tab per example query) when the script is available.
// Without JavaScript the page keeps its plain HTML form, which works on its own.
(function () {
  "use strict";
  function start() {
    if (typeof window.Yasgui !== "function") { return; }
    var examples = JSON.parse(document.getElementById("kik-examples").textContent || "[]");
    var holder = document.getElementById("kik-yasgui");
    var endpoint = new URL(holder.getAttribute("data-endpoint") || "/sparql", window.location.href).href;
    holder.hidden = false;
    document.getElementById("kik-plain-editor").hidden = true;
    var yasgui = new window.Yasgui(holder, {
      requestConfig: { endpoint: endpoint, method: "POST" },
      copyEndpointOnNewTab: true,
      persistenceId: null,
      autoAddOnInit: examples.length === 0,
      populateFromUrl: false,
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } }
    });
    window.kikYasgui = yasgui; // for scripted use and the browser test
    examples.forEach(function (example, index) {
      yasgui.addTab(index === 0, {
        name: example.title,
        yasqe: { value: example.text },
        requestConfig: { endpoint: endpoint }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
