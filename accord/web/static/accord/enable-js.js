// GOV.UK Frontend styles components differently once it knows JavaScript runs.
// Kept in a file, not inline, so the Content-Security-Policy needs no exceptions.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
