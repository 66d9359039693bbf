// Starts Swagger UI on /api/v1/docs. A file rather than an inline script, so the
// page's Content-Security-Policy needs no 'unsafe-inline' (app/api/docs.py).
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // The default asks validator.swagger.io for a badge: no request leaves this origin.
    validatorUrl: null,
    persistAuthorization: false,
  });
});
