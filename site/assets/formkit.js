/* formkit.js: enhances forms that already work without JavaScript.
 * Submits with fetch, shows the error summary and inline errors (GOV.UK pattern), shows the server's check page
 * ("Kontrollera dina svar") in place of the form before anything is sent, adds and removes repeated rows, counts
 * characters, keeps what the user typed (a draft in sessionStorage, or saved as a file) and asks before a changed
 * form is left. After sending it goes to the receipt page, the same page a browser without JavaScript gets.
 * The checks here come from the HTML attributes and the server's own messages (data-messages);
 * the server stays the authority. */
(function () {
  "use strict";

  var DATE = /^\d{4}-\d{2}-\d{2}$/;
  /* A number as the server reads it (handler/normalise.py): digits, a decimal point or comma, an exponent. */
  var NUMBER = /^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$/;
  /* E-mail: the syntax rules of the server's email-validator for ASCII addresses (dot-atom local part,
   * hostname labels, a domain ending in a letter, no special-use domain); like the server, no å, ä, ö. */
  var ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
  var LOCAL = new RegExp("^" + ATEXT + "+(?:\\." + ATEXT + "+)*$");
  var LABEL = /^(?:[A-Za-z0-9][A-Za-z0-9-]*)?[A-Za-z0-9]$/;
  var SPECIAL_USE = ["arpa", "invalid", "local", "localhost", "onion", "test"];
  /* Personnummer and samordningsnummer, found exactly as handler/privacy.py finds them: the same
   * character sets, the same one spelling, the same candidates and checks (see its docstring). */
  var SPACES = /[\t \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/gu;
  var DASHES = new RegExp("[\\-\u058a\u05be\u1400\u1806\u2010-\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d" +
    "\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\\u{10ead}\u2212\u207b\u208b]", "gu");
  var PLUSES = /[+\u207a\u208a\ufe62\uff0b]/gu;
  var INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]/gu;
  var OTHER_DIGIT = /(?![0-9])\p{Nd}/gu;
  var IDENTITY = /(?<![0-9])(?:([0-9]{6}|[0-9]{8})[ +-]+([0-9]{4}|[0-9]{2}[ +-]+[0-9]{2})|([0-9]{10}|[0-9]{12}))(?![0-9])/g;
  var digitValues = {};
  /* Drafts live in sessionStorage, never localStorage: intranet computers are shared, and a tab's storage goes
   * when the tab is closed. One draft per form and page (an answer page's link names its report). */
  var DRAFTS = "formkit:draft:";
  var DRAFT_FILE = "formkit-utkast";
  var MAX_DRAFT_BYTES = 1000000;
  var TOP = "meddelande"; // where the handler's answer pages open: the id the form's action points at

  function isEmail(value) {
    if (/[^\x00-\x7f]/.test(value)) return false;
    var at = value.lastIndexOf("@");
    if (at < 1 || value.length > 254) return false;
    var domain = value.slice(at + 1).toLowerCase();
    var labels = domain.split(".");
    if (!LOCAL.test(value.slice(0, at)) || labels.length < 2 || !/[a-z]$/.test(domain)) return false;
    if (!labels.every(function (l) { return l.length <= 63 && LABEL.test(l); })) return false;
    return !SPECIAL_USE.some(function (s) { return domain === s || domain.slice(-s.length - 1) === "." + s; });
  }

  /* The form's allowed_domains: an entry allows itself and its subdomains ("se" allows every .se). */
  function isAllowedDomain(wrapper, value) {
    var form = wrapper.closest("form[data-allowed-domains]");
    if (!form) return true;
    var domain = value.slice(value.lastIndexOf("@") + 1).toLowerCase();
    return form.getAttribute("data-allowed-domains").toLowerCase().split(" ").some(function (allowed) {
      return domain === allowed || domain.slice(-allowed.length - 1) === "." + allowed;
    });
  }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = Number(digits.charAt(digits.length - 1 - i));
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  /* A decimal digit of any script as 0-9: Unicode's digits come in whole runs from 0 to 9. */
  function digitValue(digit) {
    if (!(digit in digitValues)) {
      var code = digit.codePointAt(0), zero = code;
      while (/^\p{Nd}$/u.test(String.fromCodePoint(zero - 1))) zero--;
      digitValues[digit] = String((code - zero) % 10);
    }
    return digitValues[digit];
  }

  function oneSpelling(text) {
    return text.replace(INVISIBLE, "").replace(SPACES, " ").replace(DASHES, "-").replace(PLUSES, "+")
      .replace(OTHER_DIGIT, digitValue);
  }

  function hasIdentityNumber(text) {
    var match, spelled = oneSpelling(text);
    IDENTITY.lastIndex = 0;
    while ((match = IDENTITY.exec(spelled))) {
      var date = match[1], number = match[2], together = match[3];
      if (together) {
        if (together.length === 10 && together.slice(0, 2) === "07") continue; // a mobile number
        date = together.slice(0, -4);
        number = together.slice(-4);
      } else if (number.length > 4) {
        number = number.slice(0, 2) + number.slice(-2); // two groups of two digits
      }
      if (isIdentityNumber(date, number)) return true;
    }
    return false;
  }
  // The same verdict as the server, for other scripts on the page and for the tests.
  window.formkit = window.formkit || {};
  window.formkit.hasIdentityNumber = hasIdentityNumber;
  window.formkit.check = check; // a field's message ("" when it passes), given its [data-formkit-field] wrapper

  function isIdentityNumber(date, number) {
    if (date.length === 8 && ["18", "19", "20"].indexOf(date.slice(0, 2)) < 0) return false;
    var month = Number(date.slice(-4, -2)), day = Number(date.slice(-2));
    if (day > 60) day -= 60; // a samordningsnummer
    var yy = Number(date.slice(-6, -4));
    var years = date.length === 8 ? [Number(date.slice(0, 4))] : [1900 + yy, 2000 + yy];
    return years.some(function (year) { return isRealDay(year, month, day); }) && luhn(date.slice(-6) + number);
  }

  function isRealDay(year, month, day) {
    var d = new Date(0);
    d.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads the years 0-99 as 1900-1999
    return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
  }

  function $(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

  /* The id of a field's dotted name, as handler/paths.py spells it: a name's own hyphen doubled, "." as "-". */
  function htmlId(name) { return "f-" + name.replace(/-/g, "--").replace(/\./g, "-"); }

  function messagesOf(wrapper) {
    try { return JSON.parse(wrapper.getAttribute("data-messages") || "{}"); } catch (e) { return {}; }
  }

  /* What <input type="time"> and "datetime-local" hold (the server adds Swedish time's offset), and a URI by
   * RFC 3986 with the same expression as handler/validation.py's URI. */
  var TIME_INPUT = /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$/;
  var PCHAR = "(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})";
  var AUTHORITY = "(?:(?:[A-Za-z0-9\\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*@)?" +
    "(?:\\[[0-9A-Fa-f:.]+\\]|\\[v[0-9A-Fa-f]+\\.[A-Za-z0-9\\-._~!$&'()*+,;=:]+\\]" +
    "|(?:[A-Za-z0-9\\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::\\d*)?";
  var URI = new RegExp("^[A-Za-z][A-Za-z0-9+.\\-]*:(?://" + AUTHORITY + "(?:/" + PCHAR + "*)*|(?!//)(?:" + PCHAR +
    "|/)*)(?:\\?(?:" + PCHAR + "|[/?])*)?(?:#(?:" + PCHAR + "|[/?])*)?$");

  /* An IPv6 literal ("[::1]") is also checked as the server's ipaddress does: no leading zeros in an IPv4 part. */
  function isUri(value) {
    if (!URI.test(value)) return false;
    var literal = /^[^:]*:\/\/(?:[^@\/?#]*@)?\[([^\]]*)\]/.exec(value);
    if (!literal || literal[1].charAt(0) === "v") return true;
    if (/(^|[:.])0[0-9]+(\.|$)/.test(literal[1].slice(literal[1].lastIndexOf(":")))) return false; // "01.2.3.4"
    try { new URL("http://[" + literal[1] + "]/"); return true; } catch (e) { return false; }
  }

  function isLocalDateTime(value) {
    var parts = value.split("T");
    return parts.length === 2 && isRealDate(parts[0]) && TIME_INPUT.test(parts[1]);
  }

  function isRealDate(value) {
    if (!DATE.test(value)) return false;
    var parts = value.split("-").map(Number);
    return isRealDay(parts[0], parts[1], parts[2]);
  }

  /* A choice between alternatives (<group>._alternativ) is posted like an answer, though the kit names it. */
  function isAnswer(name) { return name.charAt(0) !== "_" || /^_alternativ([0-9]+\.|$)/.test(name); }

  /* The controls of a field: a choice between alternatives holds the alternatives' fields too, not its own. */
  function controlsOf(wrapper) {
    var controls = $(wrapper, "input, select, textarea");
    if (!wrapper.hasAttribute("data-formkit-alternatives")) return controls;
    var name = wrapper.getAttribute("data-formkit-field");
    return controls.filter(function (c) { return c.name === name; });
  }

  function valueOf(wrapper) {
    var controls = controlsOf(wrapper);
    var choice = controls.filter(function (c) { return c.type === "radio" || c.type === "checkbox"; });
    if (choice.length) return choice.filter(function (c) { return c.checked; }).map(function (c) { return c.value; }).join(",");
    return controls.length ? controls[0].value.trim() : "";
  }

  function rowOf(element) { return element.closest("[data-formkit-row]"); }
  /* What names a row: a row of fields has its legend ("Verksamhet 2"), a row of one value its label ("E-postadress 2"). */
  function rowTitle(row) { return row.querySelector(":scope > legend") || row.querySelector("[data-formkit-row-title]"); }
  /* A list of values (data-formkit-values): one input per row, counted and compared as the server does. */
  function valuesOf(list) {
    return $(list, ":scope > [data-formkit-row] [data-formkit-field]").map(valueOf).filter(function (v) { return v !== ""; });
  }

  /* Return the list's own message (how many values, the same value twice), or "" when the count is right. */
  function checkValues(list) {
    var messages = messagesOf(list);
    var values = valuesOf(list);
    if (values.length === 0) return ""; // an empty list: "required" is checked with the rows
    var min = Number(list.getAttribute("data-min")) || 0;
    if (values.length < min) return messages.minItems || "";
    if (values.length > Number(list.getAttribute("data-max"))) return messages.maxItems || "";
    if (messages.uniqueItems) {
      var number = list.querySelector("input[type=number]");
      var seen = values.map(function (v) { return number ? String(Number(v.replace(",", "."))) : v.normalize("NFC"); });
      if (seen.some(function (v, i) { return seen.indexOf(v) !== i; })) return messages.uniqueItems;
    }
    return "";
  }
  function rowIndex(row) { return Number(row.getAttribute("data-formkit-row")); }
  /* A tuple's added rows are numbered on from its fixed values (data-offset): row 2 is its first added row. */
  function offsetOf(list) { return Number(list.getAttribute("data-offset")) || 0; }
  function rowPlace(row) { return rowIndex(row) - offsetOf(row.parentNode); }
  /* Rows below the list's minItems must be filled; a list without minItems may be left empty. */
  function rowMinimum(row) { return Number(row.parentNode.getAttribute("data-min")) || 0; }
  /* A list keeps one row at least; a tuple's added rows may all be removed. */
  function rowsKept(list) { return Math.max(Number(list.getAttribute("data-min")) || 0, offsetOf(list) ? 0 : 1); }

  function rowIsBlank(row) {
    return $(row, "[data-formkit-field]").every(function (w) { return valueOf(w) === ""; });
  }

  /* A length as JSON Schema counts it: code points of the NFC text the server checks ("💩" is 1, not 2). */
  function length(text) { return Array.from(text.normalize("NFC")).length; }

  /* multipleOf as the server's jsonschema decides it: a remainder for a whole divisor ("2"), else whether the
   * quotient is whole ("0.01"; one too large to be a number is not). */
  function isMultiple(number, written) {
    var divisor = Number(written);
    if (/^[+-]?\d+$/.test(written)) return number % divisor === 0;
    var quotient = number / divisor;
    return isFinite(quotient) && Math.trunc(quotient) === quotient;
  }

  /* Return the message for one field, or "" when it passes the checks the browser can make. */
  function check(wrapper) {
    var messages = messagesOf(wrapper);
    var control = wrapper.querySelector("input, select, textarea");
    if (!control) return "";
    var value = valueOf(wrapper);
    var row = rowOf(wrapper);
    var required = wrapper.hasAttribute("data-required");
    if (required && row) required = rowPlace(row) < rowMinimum(row) || !rowIsBlank(row);
    // A tuple that is not required may be left blank: its positions below minItems count only once one is given.
    var tuple = wrapper.closest("[data-formkit-tuple]");
    if (required && tuple && !tuple.hasAttribute("data-required")) required = !rowIsBlank(tuple);
    if (value === "") return required ? messages.required || "Fyll i fältet" : "";
    if (control.type === "file") return checkFiles(control, messages);
    // In the server's order: format, pattern, minLength, maxLength, then the privacy guard.
    if (control.type === "email" && !isEmail(value)) return messages.format || "";
    if (control.type === "email" && !isAllowedDomain(wrapper, value)) return messages.allowed_domains || "";
    if (control.type === "date" && !isRealDate(value)) return messages.format || "";
    // A field that takes a number or text ("type": ["integer", "string"]) is a text input: what is typed as a
    // number is a number, as the server reads it, and gets a number's checks; anything else a text's.
    var numberOrText = control.getAttribute("data-number-or-text");
    var typedNumber = numberOrText !== null && NUMBER.test(value) && isFinite(Number(value.replace(",", ".")));
    if (!typedNumber) {
      var pattern = control.getAttribute("pattern");
      if (pattern && !new RegExp(pattern, "u").test(value)) return messages.pattern || ""; // JSON Schema: a search
      var min = control.getAttribute("minlength");
      if (min && length(value) < Number(min)) return messages.minLength || "";
      var max = control.getAttribute("maxlength") || control.getAttribute("data-maxlength");
      if (max && length(value) > Number(max)) return messages.maxLength || "";
    }
    if (control.type === "number" || typedNumber) {
      var number = NUMBER.test(value) ? Number(value.replace(",", ".")) : NaN;
      if (!isFinite(number)) return messages.type || "";
      // An integer as JSON Schema has it: 1.0 is one, as the server reads it.
      var integer = control.getAttribute("inputmode") === "numeric" || numberOrText === "integer";
      if (integer && !Number.isInteger(number)) return messages.type || "";
      var bound = numberOrText === null ? "" : "data-";
      var lowest = control.getAttribute(bound + "min"), highest = control.getAttribute(bound + "max");
      if (lowest !== null && number < Number(lowest)) return messages.minimum || "";
      if (highest !== null && number > Number(highest)) return messages.maximum || "";
      var above = control.getAttribute("data-exclusive-min"), below = control.getAttribute("data-exclusive-max");
      if (above !== null && number <= Number(above)) return messages.exclusiveMinimum || "";
      if (below !== null && number >= Number(below)) return messages.exclusiveMaximum || "";
      var step = control.getAttribute("data-multiple-of");
      if (step !== null && !isMultiple(number, step)) return messages.multipleOf || "";
    }
    if (control.type === "time" && !TIME_INPUT.test(value)) return messages.format || "";
    if (control.type === "datetime-local" && !isLocalDateTime(value)) return messages.format || "";
    if (control.type === "url" && !isUri(value)) return messages.format || "";
    var guarded = wrapper.closest("form[data-privacy-guard]") && (control.tagName === "TEXTAREA" || control.type === "text");
    if (guarded && messages.privacy && hasIdentityNumber(value)) return messages.privacy;
    return "";
  }

  /* A file input's count, sizes and types, as the server checks them. A file's type is what its first bytes say
   * (read when it was chosen, see readFileKinds); the server reads the whole file and has the last word. */
  function checkFiles(control, messages) {
    if (control.files.length > Number(control.getAttribute("data-max-files") || 1)) return messages.maxItems || "";
    var limit = Number(control.getAttribute("data-max-bytes"));
    var accepted = (control.getAttribute("accept") || "").split(",");
    var kinds = control.formkitKinds; // null while the files are being read: the server checks them then
    for (var i = 0; i < control.files.length; i++) {
      var name = control.files[i].name;
      if (control.files[i].size > limit) return (messages.fileSize || "").replace("{name}", name);
      var known = kinds && kinds[i].some(function (kind) { return accepted.indexOf(kind) >= 0; });
      if (kinds && !known) return (messages.fileType || "").replace("{name}", name);
    }
    return "";
  }

  var ZIP_KINDS = ["application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"];
  var SNIFFED_BYTES = 4096;

  /* The types a file's first bytes allow, as handler/files.py `sniff` tells them: [] for none it takes. */
  function sniff(bytes) {
    function starts(magic) { return magic.every(function (byte, i) { return bytes[i] === byte; }); }
    if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return ["application/pdf"];
    if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return ["image/png"];
    if (starts([0xff, 0xd8, 0xff])) return ["image/jpeg"];
    if (starts([0x50, 0x4b, 0x03, 0x04])) return ZIP_KINDS; // which of them the server tells by the parts inside
    if (!bytes.length) return [];
    var text;
    try { text = new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true }); }
    catch (error) { return []; }
    return /[\u0000-\u0008\u000b\u000e-\u001f]/.test(text) ? [] : ["text/plain"];
  }

  /* Read the first bytes of each file chosen in a file input, so the check on sending can say a file's type is
   * wrong before anything is sent (a PNG renamed .pdf, say). A later choice wins over a slower earlier read. */
  function readFileKinds(control) {
    var files = Array.prototype.slice.call(control.files);
    var token = control.formkitRead = {};
    control.formkitKinds = null;
    Promise.all(files.map(function (file) {
      return file.slice(0, SNIFFED_BYTES).arrayBuffer().then(function (buffer) { return sniff(new Uint8Array(buffer)); });
    })).then(function (kinds) {
      if (control.formkitRead === token) control.formkitKinds = kinds;
    }, function () { /* unreadable here: the server says what it makes of the file */ });
  }

  function Form(container) {
    this.container = container;
    this.form = container.querySelector("form");
    this.summary = container.querySelector("[data-formkit-summary]");
    this.status = container.querySelector("[data-formkit-status]");
    this.baseTitle = document.title.replace(/^(Fel|Inte skickat): /, "");
    // The summary's heading for errors in the answers; problems that are not (network, 429, 503, links) get their own.
    this.errorTitle = this.summary.querySelector("h2").textContent;
    this.id = container.getAttribute("data-formkit");
    this.version = this.form.getAttribute("data-formkit-version") || "";
    this.checkedFirst = !!this.form.querySelector("input[name=_step]"); // "Fortsätt" leads to the check page
    this.form.addEventListener("submit", this.onSubmit.bind(this));
    this.summary.addEventListener("click", this.onSummaryClick.bind(this));
    $(container, "[data-formkit-list]").forEach(this.enhanceList.bind(this));
    this.enhanceAlternatives();
    this.form.addEventListener("change", function (event) {
      if (event.target.classList && event.target.classList.contains("formkit-file")) readFileKinds(event.target);
    });
    $(container, "textarea[data-formkit-count]").forEach(this.enhanceCount.bind(this));
    // Pasted text is not cut silently at maxlength: the check says how much too long it is (GOV.UK).
    $(container, "input[maxlength]").forEach(function (input) {
      input.setAttribute("data-maxlength", input.getAttribute("maxlength"));
      input.removeAttribute("maxlength");
    });
    this.enhanceDrafts();
    this.applyConditions(true);
    var conditions = this.applyConditions.bind(this, false);
    this.form.addEventListener("change", conditions);
    this.form.addEventListener("input", conditions);
    if (!this.summary.hidden) { document.title = "Fel: " + this.baseTitle; focusAtTop(this.summary); }
  }

  /* Focus an element and put it at the top of the screen, below Material's sticky header (formkit.css gives it
   * the header's height as scroll-margin-top); focus() alone would centre it, its top out of sight when it is tall. */
  function focusAtTop(element) {
    element.focus({ preventScroll: true });
    element.scrollIntoView({ block: "start" });
  }

  /* Put a field's label (or its group's legend) at the top of the screen with the field below it, and focus it. */
  function focusField(target) {
    var label = document.querySelector("label[for='" + target.id + "']");
    var legend = target.closest("fieldset") && target.closest("fieldset").querySelector("legend");
    var choice = target.type === "radio" || target.type === "checkbox";
    var above = choice && legend && target.closest(".formkit-choices") ? legend : label || legend || target;
    above.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  }

  /* Rows after the minimum are optional: their fields are required only once the row is used. */
  Form.prototype.markRowRequirements = function (list) {
    $(list, ":scope > [data-formkit-row]").forEach(function (row) {
      var needed = rowPlace(row) < rowMinimum(row);
      $(row, "[data-formkit-field][data-required]").forEach(function (w) {
        $(w, "input:not([type=checkbox]), select, textarea").forEach(function (c) {
          if (needed) c.setAttribute("required", ""); else c.removeAttribute("required");
        });
        var mark = w.querySelector(".formkit-required");
        if (mark) mark.hidden = !needed;
      });
    });
  };

  Form.prototype.announce = function (text) {
    var status = this.status;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  };

  /* ---- conditional questions ----
   * A question with data-formkit-when (handler/conditions.py's Condition.as_json) is shown only while its condition
   * holds for the answers around it; hidden, its controls are disabled, so it is neither checked nor sent, as the
   * server drops it. One with data-formkit-required-when is optional until its condition holds. */

  /* Return the row numbers an element sits in, outermost first. */
  function rowsOf(element) {
    var rows = [];
    for (var row = rowOf(element); row; row = rowOf(row.parentNode)) rows.unshift(rowIndex(row));
    return rows;
  }

  /* Return the answer a condition reads: "" when the question is not answered or is hidden itself. */
  function answerOf(form, pattern, element) {
    var rows = rowsOf(element), index = 0;
    var name = pattern.split(".").map(function (p) { return p === "*" ? String(rows[index++]) : p; }).join(".");
    var wrapper = form.querySelector('[data-formkit-field="' + name + '"]');
    if (!wrapper || $(wrapper, "input, select, textarea").some(function (c) { return c.disabled; })) return "";
    return valueOf(wrapper);
  }

  /* Return whether an answer as the control has it ("on", "12,5", "ja") is a JSON value, as `const` compares. */
  function isValue(answer, value) {
    // A choice of values that are not all text posts its value as compact JSON (handler/fields.py's _key).
    if (value !== null && typeof value === "object") return answer === JSON.stringify(value);
    if (typeof value === "boolean") return value ? answer === "on" || answer === "true" : answer === "false";
    if (typeof value === "number") return /^[+-]?\d+([.,]\d+)?$/.test(answer) && Number(answer.replace(",", ".")) === value;
    return answer === String(value);
  }

  function holds(condition, form, element) {
    if (condition.all) return condition.all.every(function (c) { return holds(c, form, element); });
    if (condition.any) return condition.any.some(function (c) { return holds(c, form, element); });
    if (condition.not) return !holds(condition.not, form, element);
    var answer = answerOf(form, condition.answered || condition["in"], element);
    if (condition.answered) return answer !== "";
    return answer !== "" && condition.values.some(function (value) { return isValue(answer, value); });
  }

  function questionOf(element) {
    var label = element.querySelector("legend, label");
    var optional = label && label.querySelector(".formkit-optional");
    var text = label ? label.textContent : "";
    return "”" + (optional ? text.replace(optional.textContent, "") : text).trim() + "”";
  }

  function listed(items) {
    return items.length > 1 ? items.slice(0, -1).join(", ") + " och " + items[items.length - 1] : items[0];
  }

  /* Show the questions that apply and hide the rest; `quietly` (the page loading, a draft filled in) says nothing. */
  Form.prototype.applyConditions = function (quietly) {
    var self = this, shown = [], hidden = [], offered = [];
    $(this.container, "[data-formkit-when]").forEach(function (element) { // in page order: what it reads comes first
      var applies = holds(JSON.parse(element.getAttribute("data-formkit-when")), self.form, element);
      var changed = applies === element.hidden;
      if (!applies && element.contains(document.activeElement)) self.focusQuestionBefore(element);
      element.hidden = !applies;
      var choice = element.tagName === "OPTION" || element.classList.contains("formkit-choice");
      var controls = element.tagName === "OPTION" ? [element] : $(element, "input, select, textarea");
      controls.forEach(function (c) {
        c.disabled = !applies;
        if (!applies && choice) { c.checked = false; c.selected = false; } // a choice not offered is not chosen
      });
      if (!changed) return;
      if (choice) {
        var question = questionOf(element.closest("[data-formkit-field]"));
        if (offered.indexOf(question) < 0) offered.push(question);
        return;
      }
      (applies ? shown : hidden).push(questionOf(element));
      if (!applies) self.forgetErrors(element);
    });
    $(this.container, "[data-formkit-required-when]").forEach(function (wrapper) {
      var needed = holds(JSON.parse(wrapper.getAttribute("data-formkit-required-when")), self.form, wrapper);
      if (needed) wrapper.setAttribute("data-required", ""); else wrapper.removeAttribute("data-required");
      var optional = wrapper.querySelector(".formkit-optional");
      if (optional) optional.hidden = needed;
    });
    disableHidden(this.container); // a question that applies inside an alternative not chosen stays disabled
    if (quietly || !(shown.length || hidden.length || offered.length)) return;
    var said = [];
    if (shown.length) said.push((shown.length > 1 ? "Nya frågor: " : "Ny fråga: ") + listed(shown) + ".");
    if (hidden.length) said.push(listed(hidden) + (hidden.length > 1 ? " behövs inte längre och är dolda." : " behövs inte längre och är dold."));
    offered = offered.filter(function (q) { return shown.indexOf(q) < 0 && hidden.indexOf(q) < 0; });
    if (offered.length) said.push("Svarsalternativen för " + listed(offered) + " har ändrats.");
    this.announce(said.join(" "));
  };

  /* The focus was in a question that is hidden now: give it to the nearest control before it that is still there. */
  Form.prototype.focusQuestionBefore = function (element) {
    var before = $(this.form, "input, select, textarea").filter(function (c) {
      return c.type !== "hidden" && c.tabIndex >= 0 && !element.contains(c) &&
        (element.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_PRECEDING) && !c.closest("[hidden]");
    });
    if (before.length) focusField(before[before.length - 1]);
  };

  /* A question that was hidden is no longer wrong: its errors leave the field and the summary. */
  Form.prototype.forgetErrors = function (element) {
    $(element, ".formkit-field--error").forEach(function (w) { w.classList.remove("formkit-field--error"); });
    $(element, "[aria-invalid]").forEach(function (c) { c.removeAttribute("aria-invalid"); });
    $(element, ".formkit-error-message").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    $(this.summary, "li").forEach(function (item) {
      var link = item.querySelector("a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      if (target && element.contains(target)) item.remove();
    });
    if (!this.summary.querySelector("li") && !this.summary.hidden && this.summary.querySelector("[data-formkit-notice]").hidden) {
      this.summary.hidden = true;
      document.title = this.baseTitle;
    }
  };

  /* ---- repeated rows ---- */

  Form.prototype.enhanceList = function (list) {
    var self = this;
    var rows = $(list, ":scope > [data-formkit-row]");
    var keep = rowsKept(list);
    // The no-JS page shows a few blank rows; with JS, show only what is needed and let the user add.
    for (var i = rows.length - 1; i >= keep; i--) {
      if (rowIsBlank(rows[i]) && !rows[i].querySelector("[aria-invalid]")) { rows[i].remove(); } else { break; }
    }
    list.formkitTemplate = rows[0].cloneNode(true); // on the list itself: a list inside a row changes its id
    var add = document.createElement("button");
    add.type = "button";
    add.className = "md-button formkit-add";
    add.textContent = "Lägg till " + list.getAttribute("data-item-label");
    add.addEventListener("click", function () { self.addRow(list); });
    list.appendChild(add);
    list.formkitAdd = add;
    this.renumber(list);
  };

  /* Add a blank row at the end; `quietly` (a draft being filled in) leaves the focus and says nothing. */
  Form.prototype.addRow = function (list, quietly) {
    var rows = $(list, ":scope > [data-formkit-row]");
    if (rows.length >= Number(list.getAttribute("data-max"))) return;
    var self = this;
    var row = list.formkitTemplate.cloneNode(true);
    $(row, "input, select, textarea").forEach(function (c) {
      if (c.type === "radio" || c.type === "checkbox") c.checked = false; else c.value = "";
      c.removeAttribute("aria-invalid");
    });
    $(row, ".formkit-error-message").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    $(row, ".formkit-field--error").forEach(function (w) { w.classList.remove("formkit-field--error"); });
    $(row, ".formkit-remove").forEach(function (b) { b.remove(); });
    list.insertBefore(row, list.formkitAdd);
    this.renumber(list);
    // A list inside the new row (a list of values in a repeated group) gets its own buttons.
    $(row, "[data-formkit-list]").forEach(function (inner) { if (!inner.formkitAdd) self.enhanceList(inner); });
    this.applyConditions(true);
    this.showChosenAlternatives();
    if (quietly) return;
    var first = row.querySelector("input, select, textarea");
    if (first) first.focus();
    this.announce(rowTitle(row).textContent + " har lagts till.");
    this.changed();
  };

  Form.prototype.removeRow = function (list, row) {
    var rows = $(list, ":scope > [data-formkit-row]");
    var index = rows.indexOf(row);
    var name = rowTitle(row).textContent;
    row.remove();
    this.renumber(list);
    rows = $(list, ":scope > [data-formkit-row]");
    var next = rows[Math.min(index, rows.length - 1)];
    var target = index < rows.length ? next.querySelector("input, select, textarea") : list.formkitAdd;
    (target || list.formkitAdd).focus();
    this.announce(name + " har tagits bort.");
    this.changed();
  };

  /* Give every row its number again: legend, names, ids, label targets and button names. */
  Form.prototype.renumber = function (list) {
    var self = this;
    var base = list.getAttribute("data-formkit-list");
    var baseId = htmlId(base);
    var rows = $(list, ":scope > [data-formkit-row]");
    var min = rowsKept(list);
    var offset = offsetOf(list);
    var itemLabel = list.getAttribute("data-item-label");
    var values = list.hasAttribute("data-formkit-values");
    rows.forEach(function (row, index) {
      var old = row.getAttribute("data-formkit-row");
      // A row of fields names them "list.0.field"; a row of one value is "list.0" itself, its ids "f-list-0(-error)".
      var oldName = base + "." + old + (values ? "" : ".");
      var newName = base + "." + (offset + index) + (values ? "" : ".");
      var oldId = baseId + "-" + old + (values ? "" : "-");
      var newId = baseId + "-" + (offset + index) + (values ? "" : "-");
      function renamed(text) { return text.indexOf(oldName) === 0 ? newName + text.slice(oldName.length) : text; }
      row.setAttribute("data-formkit-row", String(offset + index));
      if (!values) row.id = baseId + "-" + (offset + index); // a row of one value has no id: its input has it
      var title = rowTitle(row);
      title.textContent = title.textContent.replace(/\d+$/, String(index + 1));
      function rename(scope) {
        $(scope, "[name]").forEach(function (c) { c.name = values ? renamed(c.name) : c.name.replace(oldName, newName); });
        $(scope, "[data-formkit-field]").forEach(function (w) {
          var field = w.getAttribute("data-formkit-field");
          w.setAttribute("data-formkit-field", values ? renamed(field) : field.replace(oldName, newName));
        });
        $(scope, "[data-formkit-list]").forEach(function (inner) { // a list inside the row: its rows are named after it
          var named = inner.getAttribute("data-formkit-list") + "."; // a row that is a list is named as the row is
          if (named.indexOf(oldName) === 0) named = newName + named.slice(oldName.length);
          inner.setAttribute("data-formkit-list", named.slice(0, -1));
        });
        ["id", "for", "aria-describedby", "aria-controls", "href"].forEach(function (attribute) {
          $(scope, "[" + attribute + "]").forEach(function (e) {
            var text = e.getAttribute(attribute);
            // Whole ids only: "f-list-1" is not the start of "f-list-10".
            if (values) text = text.split(" ").map(function (id) {
              var hash = id.charAt(0) === "#" ? "#" : "";
              id = id.slice(hash.length);
              return hash + (id === oldId || id.indexOf(oldId + "-") === 0 ? newId + id.slice(oldId.length) : id);
            }).join(" ");
            else text = text.split(oldId).join(newId);
            e.setAttribute(attribute, text);
          });
        });
      }
      rename(row);
      // A list inside the row keeps a blank row to copy: it is named after the row too.
      $(row, "[data-formkit-list]").forEach(function (inner) { if (inner.formkitTemplate) rename(inner.formkitTemplate); });
      var remove = row.querySelector(":scope > .formkit-remove");
      if (rows.length > min) {
        if (!remove) {
          remove = document.createElement("button");
          remove.type = "button";
          remove.className = "md-button formkit-remove";
          remove.addEventListener("click", function () { self.removeRow(list, row); });
          row.appendChild(remove);
        }
        remove.innerHTML = "";
        remove.appendChild(document.createTextNode("Ta bort "));
        var which = document.createElement("span");
        which.className = "formkit-visually-hidden";
        which.textContent = itemLabel + " " + (index + 1);
        remove.appendChild(which);
      } else if (remove) {
        remove.remove();
      }
    });
    if (list.formkitAdd) list.formkitAdd.hidden = rows.length >= Number(list.getAttribute("data-max"));
    this.markRowRequirements(list);
  };

  /* ---- alternatives: only the chosen alternative's fields are shown, checked and sent ---- */

  Form.prototype.enhanceAlternatives = function () {
    var self = this;
    this.form.addEventListener("change", function (event) {
      var radio = event.target;
      var wrapper = radio.type === "radio" && radio.closest("[data-formkit-alternatives]");
      if (!wrapper || radio.name !== wrapper.getAttribute("data-formkit-field")) return;
      self.showChosenAlternatives();
      var title = document.querySelector("label[for='" + radio.id + "']").textContent.trim();
      var panel = document.getElementById(radio.getAttribute("aria-controls") || "");
      self.announce(panel ? "Frågorna för ”" + title + "” visas under valet." : "Du har valt ”" + title + "”.");
    });
    this.showChosenAlternatives();
  };

  /* Show each chosen alternative's fields; hide the others' and disable them, so they are neither checked nor sent. */
  Form.prototype.showChosenAlternatives = function () {
    $(this.container, "[data-formkit-alternative]").forEach(function (panel) {
      var wrapper = panel.closest("[data-formkit-alternatives]");
      var chosen = valueOf(wrapper);
      panel.hidden = chosen !== panel.getAttribute("data-formkit-alternative");
    });
    disableHidden(this.container);
  };

  /* A control under a hidden question or a hidden alternative is disabled: neither checked nor sent. */
  function disableHidden(container) {
    $(container, ":is([data-formkit-when], [data-formkit-alternative]) :is(input, select, textarea)").forEach(function (c) {
      c.disabled = !!c.closest("[data-formkit-when][hidden], [data-formkit-alternative][hidden]");
    });
  }

  /* ---- character count ---- */

  function thousands(number) {
    return String(number).replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
  }

  Form.prototype.enhanceCount = function (textarea) {
    var max = Number(textarea.getAttribute("maxlength"));
    var count = document.getElementById(textarea.id + "-count");
    var live = document.createElement("div");
    live.className = "formkit-visually-hidden";
    live.setAttribute("aria-live", "polite");
    count.parentNode.insertBefore(live, count.nextSibling);
    var timer = null;
    function update() {
      // Characters as the server counts them (code points), numbers as Swedish writes them: 2 000.
      var left = max - Array.from(textarea.value).length;
      var text = left >= 0 ? "Du har " + thousands(left) + " tecken kvar." : "Du har " + thousands(-left) + " tecken för mycket.";
      count.textContent = text;
      count.classList.toggle("formkit-count--over", left < 0);
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { live.textContent = text; }, 1000);
    }
    // Let the browser accept more than maxlength so pasted text is not cut silently; the count says so.
    textarea.removeAttribute("maxlength");
    textarea.setAttribute("data-maxlength", String(max));
    textarea.addEventListener("input", update);
    update();
    live.textContent = "";
  };

  /* ---- errors ---- */

  Form.prototype.clearErrors = function () {
    this.summary.querySelector("h2").textContent = this.errorTitle;
    $(this.container, ".formkit-field--error").forEach(function (w) { w.classList.remove("formkit-field--error"); });
    $(this.container, "[aria-invalid]").forEach(function (c) { c.removeAttribute("aria-invalid"); });
    $(this.container, ".formkit-error-message").forEach(function (p) {
      p.hidden = true;
      p.textContent = "";
      $(this.container, "[aria-describedby~='" + p.id + "']").forEach(function (c) {
        var ids = c.getAttribute("aria-describedby").split(" ").filter(function (id) { return id !== p.id; });
        if (ids.length) c.setAttribute("aria-describedby", ids.join(" ")); else c.removeAttribute("aria-describedby");
      });
    }, this);
    this.summary.hidden = true;
    this.summary.querySelector("ul").innerHTML = "";
    this.showNotice("");
    document.title = this.baseTitle;
  };

  /* A notice above the error list, e.g. that the form changed after the page was loaded. */
  Form.prototype.showNotice = function (text) {
    var notice = this.summary.querySelector("[data-formkit-notice]");
    if (!notice) return;
    notice.textContent = text;
    notice.hidden = !text;
  };

  /* Show errors: [{name, message, summary}] in form order, and an optional notice above them. */
  Form.prototype.showErrors = function (errors, notice) {
    var self = this;
    this.clearErrors();
    this.showNotice(notice || "");
    var list = this.summary.querySelector("ul");
    errors.forEach(function (error) {
      var id = htmlId(error.name);
      var wrapper = self.container.querySelector('[data-formkit-field="' + error.name + '"]') || document.getElementById(id);
      var message = document.getElementById(id + "-error");
      if (wrapper && message) {
        wrapper.classList.add("formkit-field--error");
        message.hidden = false;
        message.innerHTML = '<span class="formkit-visually-hidden">Fel: </span>';
        message.appendChild(document.createTextNode(error.message));
        // A list's error is about the list: its fieldset is described by it, its rows' fields are not wrong.
        var controls = wrapper.hasAttribute("data-formkit-list") ? [wrapper] : controlsOf(wrapper);
        controls.forEach(function (c) {
          if (c.type === "hidden") return;
          if (c !== wrapper) c.setAttribute("aria-invalid", "true");
          var ids = (c.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
          if (ids.indexOf(message.id) < 0) ids.push(message.id);
          c.setAttribute("aria-describedby", ids.join(" "));
        });
      }
      var item = document.createElement("li");
      var link = document.createElement("a");
      var target = wrapper && wrapper.querySelector("input:not([type=hidden]), select, textarea");
      link.href = "#" + (target ? target.id : id);
      link.textContent = error.summary || error.message;
      item.appendChild(link);
      list.appendChild(item);
    });
    this.summary.hidden = false;
    document.title = "Fel: " + this.baseTitle;
    focusAtTop(this.summary);
  };

  Form.prototype.onSummaryClick = function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    focusField(target);
  };

  Form.prototype.validate = function () {
    var errors = [];
    var reported = [];
    $(this.container, "[data-formkit-field]").forEach(function (wrapper) {
      if (wrapper.closest("[data-formkit-when][hidden]")) return; // a question that does not apply is not asked
      if (wrapper.closest("[data-formkit-alternative][hidden]")) return; // an alternative not chosen
      // A required list with every row blank is one error, the list's own, as the server says it.
      var list = wrapper.closest("[data-formkit-list][data-required]");
      if (list && $(list, ":scope > [data-formkit-row]").every(rowIsBlank)) {
        if (reported.indexOf(list) < 0) {
          reported.push(list);
          var missing = messagesOf(list).required || "Fyll i fältet";
          errors.push({ name: list.getAttribute("data-formkit-list"), message: missing, summary: missing });
        }
        return;
      }
      // A list of values says first how many values it has, or that one is there twice, as the server does.
      var values = wrapper.closest("[data-formkit-values]");
      if (values && reported.indexOf(values) < 0) {
        reported.push(values);
        var counted = checkValues(values);
        if (counted) errors.push({ name: values.getAttribute("data-formkit-list"), message: counted, summary: counted });
      }
      var message = check(wrapper);
      if (message) {
        // Only a row or a tuple is named ("Verksamhet 2"), as FieldError.summary does: the messages say whose value it is.
        var row = rowOf(wrapper);
        var tuple = wrapper.closest("[data-formkit-tuple]");
        // A tuple's value, or a field of a group that is one: named by that group ("Kontaktperson"), as the server does.
        var group = tuple && wrapper.closest("fieldset.formkit-group");
        var named = group && (group === tuple || group.parentNode === tuple) ? group.querySelector("legend").textContent : "";
        var context = row ? rowTitle(row).textContent : named;
        errors.push({ name: wrapper.getAttribute("data-formkit-field"), message: message,
                      summary: context ? message + " (" + context + ")" : message });
      }
    });
    return errors;
  };

  /* ---- sending: the check page first, then the receipt ---- */

  Form.prototype.onSubmit = function (event) {
    event.preventDefault();
    if (this.sending) return;
    var errors = this.validate();
    if (errors.length) { this.showErrors(errors); return; }
    this.clearErrors();
    this.post(this.form, this.checkedFirst ? "Kontrollerar svaren …" : "Skickar …");
  };

  /* Post a form's fields (the form itself to be checked, or the check page's to be sent) and show the outcome:
   * the check page (200), the receipt page (201), the errors (422) or why it was not sent. */
  Form.prototype.post = function (form, saying) {
    var self = this;
    var button = form.querySelector("button[type=submit]:not([name])");
    this.sending = true;
    button.disabled = true;
    this.announce(saying);
    // A form with file inputs posts multipart/form-data, as it does without JavaScript; the browser sets the boundary.
    var multipart = form.getAttribute("enctype") === "multipart/form-data";
    var headers = { "Accept": "application/json" };
    if (!multipart) headers["Content-Type"] = "application/x-www-form-urlencoded;charset=UTF-8";
    fetch(this.form.action, {
      method: "POST",
      headers: headers,
      body: multipart ? new FormData(form) : new URLSearchParams(new FormData(form)).toString(),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data, retryAfter: response.headers.get("Retry-After"),
                 location: response.headers.get("Location") };
      });
    }).then(function (result) {
      self.sending = false;
      button.disabled = false;
      if (result.status === 200 && result.data.check) return self.showCheck(result.data.check, result.data.title);
      if (result.status === 201) return self.sent(result.location || self.form.action.split("#")[0] + "/kvitto/" + result.data.reference);
      self.leaveCheck();
      if (result.status === 422 && result.data.errors) {
        return self.showErrors(result.data.errors.map(function (e) {
          return { name: e.name, message: e.message, summary: e.summary || e.message };
        }), result.data.form_changed ? result.data.detail : "");
      }
      self.showProblem(result.data.detail || "Formuläret kunde inte skickas.", result.retryAfter, result.data.title);
    }).catch(function () {
      self.sending = false;
      button.disabled = false;
      self.leaveCheck();
      self.showProblem("Det gick inte att nå servern. Kontrollera anslutningen.", null, "Det gick inte att nå servern");
    });
  };

  /* Sent: forget the draft and go to the receipt page, at its heading (as the no-JS 303 does). */
  Form.prototype.sent = function (receipt) {
    this.forgetDraft();
    window.location.assign(receipt.split("#")[0] + "#" + TOP);
  };

  /* Show the server's check page in place of the form and the page's text around it; nothing is sent yet. */
  Form.prototype.showCheck = function (html, title) {
    var self = this;
    this.leaveCheck();
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var check = holder.querySelector("[data-formkit-check]");
    this.aside = [this.form, this.drafts];
    for (var node = this.container; node && node.parentNode && !node.matches("article, main, body"); node = node.parentNode) {
      $(node.parentNode, ":scope > *").forEach(function (e) { if (e !== node) self.aside.push(e); });
    }
    this.aside.forEach(function (e) { e.classList.add("formkit-set-aside"); });
    this.container.appendChild(check);
    this.check = check;
    var form = check.querySelector("form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!self.sending) self.post(form, "Skickar …");
    });
    $(check, "[data-formkit-change]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        self.leaveCheck();
        var target = document.getElementById(button.getAttribute("data-formkit-change"));
        if (target) focusField(target);
      });
    });
    document.title = title + " - " + this.baseTitle.split(" - ").pop(); // as the page without JavaScript is called
    focusAtTop(check.querySelector("h1"));
  };

  /* Back from the check page to the form, as it was left. */
  Form.prototype.leaveCheck = function () {
    if (!this.check) return;
    this.check.remove();
    this.check = null;
    this.aside.forEach(function (e) { e.classList.remove("formkit-set-aside"); });
    document.title = this.baseTitle;
  };

  /* A problem that is not about the answers (the server's problem title, e.g. "För många försök"), under its own
   * heading: "Det finns fel i formuläret" would send the user looking for a field to correct. */
  Form.prototype.showProblem = function (detail, retryAfter, title) {
    var wait = retryAfter ? " Försök igen om " + retryAfter + " sekunder." : " Försök igen.";
    this.showMessage((title || "Formuläret kunde inte skickas") + ": formuläret är inte skickat",
                     detail + " Det du har skrivit finns kvar." + wait);
    document.title = "Inte skickat: " + this.baseTitle;
  };

  /* The summary box with a heading and one line of its own, at the top of the screen and focused. */
  Form.prototype.showMessage = function (heading, text) {
    this.clearErrors();
    var list = this.summary.querySelector("ul");
    this.summary.querySelector("h2").textContent = heading;
    var item = document.createElement("li");
    item.textContent = text;
    list.appendChild(item);
    this.summary.hidden = false;
    focusAtTop(this.summary);
  };

  /* ---- drafts: sessionStorage while the tab is open, a JSON file to keep ---- */

  /* Return the answers as [name, value] pairs, as the form would send them, without the kit's own "_" fields.
   * `form`: a copy of the form to read instead (see copyOf). */
  Form.prototype.answers = function (form) {
    form = form || this.form;
    var pairs = [];
    var secret = $(form, "[data-write-only]").map(function (c) { return c.name; }); // never kept in a draft
    new FormData(form).forEach(function (value, name) {
      if (isAnswer(name) && typeof value === "string" && secret.indexOf(name) < 0) pairs.push([name, value]);
    });
    return pairs;
  };

  /* A copy of `form` in a document of its own, to read its answers at the start: FormData on the page's own form
   * lays the whole page out first (Chromium does for a textarea), before the page is first painted. A copy keeps
   * what is typed and checked; what is selected is copied over. */
  function copyOf(form) {
    var copy = document.implementation.createHTMLDocument("").importNode(form, true);
    var copies = $(copy, "select");
    $(form, "select").forEach(function (select, i) {
      for (var j = 0; j < select.options.length; j++) copies[i].options[j].selected = select.options[j].selected;
    });
    return copy;
  }

  Form.prototype.draftKey = function () {
    var token = this.form.querySelector("input[name=_token]");
    return DRAFTS + this.id + ":" + window.location.pathname + (token ? ":" + token.value : "");
  };

  Form.prototype.enhanceDrafts = function () {
    var self = this;
    this.initial = this.answers(copyOf(this.form)); // "Rensa formuläret" goes back to the page as it came
    this.dirty = false;
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(this.draftKey()) || "null"); } catch (e) { saved = null; }
    if (saved && Array.isArray(saved.answers)) {
      this.fill(saved.answers);
      this.dirty = true;
    }
    function typed(event) {
      if (!event.isTrusted || !event.target.name || !isAnswer(event.target.name)) return;
      window.clearTimeout(self.saving);
      self.saving = window.setTimeout(function () { self.changed(); }, 300);
      self.dirty = true;
    }
    this.form.addEventListener("input", typed);
    this.form.addEventListener("change", typed);
    window.addEventListener("pagehide", function () { if (self.dirty) self.saveDraft(); });
    // Leaving a form with answers that were not sent asks first; the draft in this tab survives, a closed tab does not.
    window.addEventListener("beforeunload", function (event) {
      if (!self.dirty) return;
      self.saveDraft();
      event.preventDefault();
      event.returnValue = "";
    });
    this.addDraftButtons();
  };

  /* The user changed something: keep it in this tab. */
  Form.prototype.changed = function () {
    this.dirty = true;
    this.saveDraft();
  };

  Form.prototype.saveDraft = function () {
    try {
      window.sessionStorage.setItem(this.draftKey(), JSON.stringify({ version: this.version, answers: this.answers() }));
    } catch (e) { /* storage full or switched off: the form still works, and leaving still asks first */ }
  };

  /* Forget this form's drafts in this tab (every page of it), once it is sent or cleared. */
  Form.prototype.forgetDraft = function () {
    window.clearTimeout(this.saving); // a save still waiting for typing to pause would bring the draft back
    this.dirty = false;
    forgetDrafts(this.id);
  };

  function forgetDrafts(formId) {
    try {
      for (var i = window.sessionStorage.length - 1; i >= 0; i--) {
        var key = window.sessionStorage.key(i);
        if (key && key.indexOf(DRAFTS + formId + ":") === 0) window.sessionStorage.removeItem(key);
      }
    } catch (e) { /* nothing was stored */ }
  }

  /* Put answers into the form: enough rows first, then every value; fields not named are emptied. */
  Form.prototype.fill = function (pairs) {
    var self = this;
    var done = [];
    // Outer lists first; rows they add may hold lists of their own, so the lists are looked up again each time.
    for (var list; (list = $(this.container, "[data-formkit-list]").filter(function (l) { return done.indexOf(l) < 0; })[0]);) {
      done.push(list);
      fillRows(list);
    }
    function fillRows(list) {
      var base = list.getAttribute("data-formkit-list") + ".";
      var needed = rowsKept(list), offset = offsetOf(list);
      pairs.forEach(function (pair) {
        var index = pair[0].indexOf(base) === 0 ? parseInt(pair[0].slice(base.length), 10) : NaN;
        if (index >= offset) needed = Math.max(needed, index - offset + 1);
      });
      var rows = $(list, ":scope > [data-formkit-row]");
      for (var n = rows.length; n < needed && list.formkitTemplate; n++) self.addRow(list, true);
      for (var r = rows.length - 1; r >= needed; r--) rows[r].remove();
      self.renumber(list);
    }
    var values = {};
    pairs.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    $(this.form, "input, select, textarea").forEach(function (control) {
      if (!control.name || !isAnswer(control.name) || control.readOnly || control.type === "hidden") return;
      if (control.hasAttribute("data-write-only")) return; // never kept: a write-only answer is never shown back
      var given = values[control.name] || [];
      if (control.type === "radio" || control.type === "checkbox") control.checked = given.indexOf(control.value) >= 0;
      else control.value = given.length ? given[0] : "";
    });
    $(this.form, "textarea[data-maxlength]").forEach(function (t) { t.dispatchEvent(new Event("input")); });
    this.applyConditions(true);
    this.showChosenAlternatives();
  };

  Form.prototype.addDraftButtons = function () {
    var self = this;
    var box = document.createElement("div");
    box.className = "formkit-drafts";
    box.setAttribute("data-formkit-drafts", "");
    box.innerHTML =
      '<p class="formkit-drafts-hint">Det du skriver sparas i den här fliken tills du skickar formuläret eller ' +
      "stänger fliken. Vill du fortsätta senare, spara ett utkast som fil. Filen innehåller det du har skrivit: " +
      "spara den där bara du kommer åt den.</p>" +
      '<div class="formkit-drafts-buttons">' +
      '<button type="button" class="md-button formkit-secondary" data-formkit-save>Spara utkast som fil</button>' +
      '<button type="button" class="md-button formkit-secondary" data-formkit-open>Öppna utkast</button>' +
      '<button type="button" class="md-button formkit-secondary" data-formkit-clear>Rensa formuläret</button>' +
      '<input type="file" accept=".json,application/json" hidden data-formkit-file>' +
      "</div>";
    this.container.appendChild(box); // after the form, not in it: these buttons send nothing
    this.drafts = box;
    var file = box.querySelector("[data-formkit-file]");
    box.querySelector("[data-formkit-save]").addEventListener("click", function () { self.saveFile(); });
    box.querySelector("[data-formkit-open]").addEventListener("click", function () { file.value = ""; file.click(); });
    file.addEventListener("change", function () { if (file.files.length) self.openFile(file.files[0]); });
    box.querySelector("[data-formkit-clear]").addEventListener("click", function () {
      if (!window.confirm("Vill du rensa formuläret? Allt du har skrivit tas bort.")) return;
      self.clearErrors();
      self.fill(self.initial);
      self.forgetDraft();
      self.announce("Formuläret är rensat.");
    });
  };

  Form.prototype.saveFile = function () {
    var today = new Date().toISOString().slice(0, 10);
    var draft = { formkit: DRAFT_FILE, form: this.id, version: this.version, saved: new Date().toISOString(),
                  answers: this.answers() };
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([JSON.stringify(draft, null, 2)], { type: "application/json" }));
    link.download = "utkast-" + this.id + "-" + today + ".json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    this.announce("Utkastet är sparat som filen " + link.download + ".");
  };

  /* Open a draft file: only one saved from this form, in this version; anything else says why in Swedish. */
  Form.prototype.openFile = function (file) {
    var self = this;
    var unreadable = "Filen är inte ett utkast som har sparats med knappen Spara utkast som fil. Välj en annan fil.";
    if (file.size > MAX_DRAFT_BYTES) return this.draftProblem(unreadable);
    file.text().then(function (text) {
      var draft = null;
      try { draft = JSON.parse(text); } catch (e) { draft = null; }
      var pairs = draft && draft.formkit === DRAFT_FILE && Array.isArray(draft.answers) ? draft.answers : null;
      if (!pairs || !pairs.every(function (p) { return Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string"; })) {
        return self.draftProblem(unreadable);
      }
      if (draft.form !== self.id) {
        return self.draftProblem("Utkastet är sparat från ett annat formulär (" + String(draft.form).slice(0, 80) +
          "). Öppna det på sidan med det formuläret.");
      }
      if (draft.version !== self.version) {
        return self.draftProblem("Utkastet är sparat från en annan version av formuläret. Formuläret har ändrats sedan dess, " +
          "så utkastet kan inte öppnas. Det du skrev finns kvar i filen: öppna den i en textredigerare om du vill kopiera texten.");
      }
      if (self.dirty && !window.confirm("Det du har skrivit i formuläret ersätts av utkastet. Vill du öppna utkastet?")) return;
      self.clearErrors();
      self.fill(pairs);
      self.changed();
      self.announce("Utkastet är öppnat. Kontrollera svaren innan du fortsätter.");
    }, function () { self.draftProblem(unreadable); });
  };

  Form.prototype.draftProblem = function (text) {
    this.showMessage("Utkastet kunde inte öppnas", text);
  };

  /* ---- the receipt page ---- */

  function enhanceReceipt(receipt) {
    forgetDrafts(receipt.getAttribute("data-formkit-receipt"));
    var print = receipt.querySelector(".formkit-print");
    if (!print) return;
    print.hidden = false;
    print.querySelector("button").addEventListener("click", function () { window.print(); });
  }

  /* ---- the theme's menu and search buttons ----
   * Material opens its menu (on narrow screens and when zoomed) and its search with <label>s for hidden
   * checkboxes, which the keyboard cannot reach, and a <label> may not take the role of a button (ARIA in HTML).
   * Put a real button in each label's place (the label stays, hidden, for Material's own scripts): named, saying
   * whether it is open, toggling the checkbox as the label did. What they open takes the focus and gives it back
   * on Escape; the menu also closes when the focus leaves it. The search form can be submitted: it goes to the
   * best result, as Enter in Material's search does. */
  function enhanceThemeToggles() {
    var sidebar = document.querySelector(".md-sidebar--primary");
    var buttons = {};
    [["__drawer", "Meny"], ["__search", "Sök"]].forEach(function (pair) {
      var toggle = document.getElementById(pair[0]);
      var label = document.querySelector(".md-header label.md-header__button[for='" + pair[0] + "']");
      if (!toggle || !label) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = label.className + " formkit-toggle";
      button.setAttribute("data-formkit-toggle", pair[0]);
      button.setAttribute("aria-label", pair[1]);
      button.innerHTML = label.innerHTML;
      label.parentNode.insertBefore(button, label);
      label.hidden = true;
      buttons[pair[0]] = button;
      function update() { button.setAttribute("aria-expanded", String(toggle.checked)); }
      toggle.addEventListener("change", update);
      button.addEventListener("click", function () {
        toggle.checked = !toggle.checked;
        toggle.dispatchEvent(new Event("change"));
        update();
        if (!toggle.checked) return;
        var inside = pair[0] === "__drawer" ? sidebar && sidebar.querySelector("a[href]")
          : document.querySelector(".md-search__input");
        if (inside) inside.focus();
      });
      // Material closes its search on Escape and drops the focus; give it back to the button that opened it.
      document.addEventListener("keydown", function (event) {
        if (event.key !== "Escape" || !toggle.checked) return;
        if (pair[0] === "__search" && themeMissing()) {
          toggle.checked = false;
          toggle.dispatchEvent(new Event("change"));
          if (document.activeElement) document.activeElement.blur();
        }
        window.setTimeout(function () {
          update();
          if (!toggle.checked && button.offsetParent && document.activeElement === document.body) button.focus();
        }, 0);
      }, true);
      update();
    });
    var search = document.querySelector("form.md-search__form");
    if (search) {
      search.addEventListener("submit", function (event) {
        event.preventDefault();
        var best = search.parentNode.querySelector(".md-search-result__list [href]");
        if (best) best.click();
      });
    }
    var drawer = document.getElementById("__drawer");
    var menu = buttons.__drawer;
    if (!drawer || !menu || !sidebar) return;
    function close(returnFocus) {
      if (!drawer.checked) return;
      drawer.checked = false;
      drawer.dispatchEvent(new Event("change"));
      if (returnFocus) menu.focus();
    }
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") close(sidebar.contains(document.activeElement));
    });
    document.addEventListener("focusin", function (event) {
      if (!sidebar.contains(event.target) && event.target !== menu) close(false);
    });
  }

  /* ---- Material's script, on a page with a form only when it is needed ----
   * A form page leaves Material's script out (site/main.html): it is mostly search (the script, then its index,
   * worker and stemmers), and the page works without it (the menu is a CSS checkbox). The script is named in
   * data-theme-script (relative to this file: the handler's pages move the page, not the assets) and comes when
   * search is opened: its field focused, its button pressed, or Material's shortcut keys (f, s, /). Material starts
   * on DOMContentLoaded, which has passed by then: it gets one of its own. Until it is there, Escape closes the
   * search here as Material does. */
  var THEME_SCRIPT = (function (script) {
    var name = script && script.getAttribute("data-theme-script");
    return name ? new URL(name, script.src).href : "";
  })(document.currentScript);
  var themeLoading = false;

  function themeMissing() { return Boolean(THEME_SCRIPT) && !window.component$; }

  function loadTheme() {
    if (!themeMissing() || themeLoading) return;
    themeLoading = true;
    var script = document.createElement("script");
    script.src = THEME_SCRIPT;
    script.onload = function () { document.dispatchEvent(new Event("DOMContentLoaded")); };
    document.body.appendChild(script);
  }

  function deferTheme() {
    if (!THEME_SCRIPT) return;
    document.documentElement.classList.replace("no-js", "js"); // Material's search shows: it works once opened
    var toggle = document.getElementById("__search");
    var query = document.querySelector(".md-search__input");
    if (!toggle || !query) return;
    query.addEventListener("focus", loadTheme);
    toggle.addEventListener("change", function () { if (toggle.checked) loadTheme(); });
    document.addEventListener("keydown", function (event) {
      if (!themeMissing() || event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      if (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(target.tagName || "")) return;
      if (["f", "s", "/"].indexOf(event.key) < 0) return;
      event.preventDefault();
      toggle.checked = true;
      toggle.dispatchEvent(new Event("change"));
      query.focus();
    });
  }

  function start() {
    deferTheme();
    enhanceThemeToggles();
    $(document, "[data-formkit]").forEach(function (c) { new Form(c); });
    $(document, "[data-formkit-receipt]").forEach(enhanceReceipt);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
