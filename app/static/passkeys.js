// Passkeys (WebAuthn) for Vestibule's pages: sign in, add a passkey on the account
// page, create an account with a passkey. First-party, no framework; the pages allow
// it by the CSP's 'self' and work without it (the passkey controls stay hidden).
//
// Each ceremony: POST for options (JSON, CSRF token in a header), ask the browser,
// put the answer (JSON) in the form's hidden field, submit the form. The server
// answers the form with a redirect or a page, as with a password.
"use strict";

(function () {
  // Browsers refuse WebAuthn for an IP address (a relying party is a domain name).
  var ipHost = /^[0-9.]+$/.test(location.hostname) || location.hostname.indexOf(":") >= 0;
  if (!window.PublicKeyCredential || !navigator.credentials || ipHost) {
    return;
  }

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(descriptors) {
    return (descriptors || []).map(function (d) {
      return Object.assign({}, d, { id: toBytes(d.id) });
    });
  }

  function creationOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, { id: toBytes(json.user.id) }),
      excludeCredentials: withBytes(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      allowCredentials: withBytes(json.allowCredentials),
    });
  }

  function registrationJSON(credential) {
    var response = credential.response;
    return JSON.stringify({
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        attestationObject: toBase64url(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : [],
      },
    });
  }

  function assertionJSON(credential) {
    var response = credential.response;
    return JSON.stringify({
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        authenticatorData: toBase64url(response.authenticatorData),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : undefined,
      },
    });
  }

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function fetchOptions(form, body) {
    return fetch(form.dataset.optionsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) },
      body: JSON.stringify(body || {}),
    }).then(function (answer) {
      if (!answer.ok) {
        throw new Error("options " + answer.status);
      }
      return answer.json();
    });
  }

  function say(form, text) {
    var status = document.getElementById(form.dataset.status || "passkey-status");
    if (status) {
      status.textContent = text || "";
      status.hidden = !text;
    }
  }

  function failed(form, error) {
    if (error && error.name === "AbortError") {
      return;
    }
    var cancelled = error && error.name === "NotAllowedError";
    say(form, cancelled ? form.dataset.cancelledText : form.dataset.errorText);
  }

  function submitWith(form, fieldName, value) {
    form.querySelector("input[name=" + fieldName + "]").value = value;
    form.submit();
  }

  function show(element) {
    if (element) {
      element.hidden = false;
    }
  }

  // Sign in: a button, and the browser's own suggestions in the email field
  // (conditional mediation) where it offers them.
  function signIn(form) {
    var button = form.querySelector("[data-passkey-button]");
    var pending = null;

    function ask(mediation) {
      if (pending) {
        pending.abort();
      }
      var controller = new AbortController();
      pending = controller;
      return fetchOptions(form).then(function (json) {
        var options = { publicKey: requestOptions(json), signal: controller.signal };
        if (mediation) {
          options.mediation = mediation;
        }
        return navigator.credentials.get(options);
      }).then(function (credential) {
        if (credential) {
          submitWith(form, "credential", assertionJSON(credential));
        }
      });
    }

    show(form);
    show(button);
    button.addEventListener("click", function () {
      say(form, "");
      ask(null).catch(function (error) { failed(form, error); });
    });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available) {
          ask("conditional").catch(function () {});
        }
      });
    }
  }

  function register(form, fieldName, body) {
    say(form, "");
    return fetchOptions(form, body).then(function (json) {
      return navigator.credentials.create({ publicKey: creationOptions(json) });
    }).then(function (credential) {
      submitWith(form, fieldName, registrationJSON(credential));
    }).catch(function (error) { failed(form, error); });
  }

  // The account page: name it, then create it.
  function addPasskey(form) {
    show(form);
    form.addEventListener("submit", function (event) {
      if (form.querySelector("input[name=credential]").value) {
        return;
      }
      event.preventDefault();
      if (form.reportValidity()) {
        register(form, "credential");
      }
    });
  }

  // The registration page: the same form, with a passkey in place of the password.
  function createAccount(form) {
    var button = form.querySelector("button[data-passkey-register]");
    form.querySelectorAll("[data-passkey-register]").forEach(show);
    button.addEventListener("click", function () {
      var email = form.querySelector("input[name=email]");
      var given = form.querySelector("input[name=given_name]");
      var family = form.querySelector("input[name=family_name]");
      var name = [given && given.value, family && family.value].filter(Boolean).join(" ");
      register(form, "passkey_credential", {
        user_name: email ? email.value : "",
        display_name: name,
      });
    });
  }

  document.querySelectorAll("[data-passkey-unsupported]").forEach(function (note) {
    note.hidden = true;
  });
  document.querySelectorAll("form[data-passkey=sign-in]").forEach(signIn);
  document.querySelectorAll("form[data-passkey=add]").forEach(addPasskey);
  document.querySelectorAll("form[data-passkey=register]").forEach(createAccount);
})();
