# De webwerkplek: ondertekenen in de browser (cijfers, medeondertekenen,
# het ondertekeningslogboek). Engelse tweeling: ../en/web-webact.ftl.
web-act-back = Terug naar de pagina
web-act-password = Uw wachtwoord (ter bevestiging)
web-act-not-signer = Alleen een gebruiker met de rol signer mag ondertekenen; u bent { $role }. Er is niets ondertekend.
web-act-wrong-password = Het wachtwoord klopt niet; er is niets ondertekend. Na te veel verkeerde pogingen zijn ondertekenen en inloggen een kwartier geblokkeerd.
web-act-no-key = Dit knooppunt heeft geen sleutel van een partij in dit grootboek, dus hier kan niets worden ondertekend.
web-act-nothing = Er was niets te ondertekenen.
web-act-log-failed = De boekingen { $entries } zijn ondertekend en geschreven, maar het ondertekeningslogboek kon niet worden geschreven ({ $error }). Meld dit aan de beheerder van het knooppunt.
web-act-field-required = { $field } is verplicht; er is niets ondertekend.
web-act-field-too-long = { $field } is langer dan { $max } tekens; er is niets ondertekend.
web-act-not-decimal = { $value } is geen exact decimaal getal (schrijf het als 1234.56: cijfers, één punt, geen scheidingstekens voor duizendtallen); er is niets ondertekend.
web-act-done-submit = Cijfer ingediend en ondertekend.
web-act-done-attest = Cijfer bevestigd.
web-act-done-attest-all = Alle openstaande cijfers bevestigd.
web-act-done-dispute = Cijfer betwist.
web-act-done-correct = Correctie ingediend en ondertekend.
web-act-done-cosign = Afrekening ondertekend.
web-act-done-resettle = Gecorrigeerde afrekening ondertekend: zij vervangt de vastgestelde zodra elke ondertekenaar haar heeft ondertekend.
web-fig-link = Cijfers
web-fig-to-statement = De afrekening van dit jaar
web-fig-title = Cijfers van { $contract }, { $year }
web-fig-acting-as = Dit knooppunt ondertekent als { $party }.
web-fig-caption = { $n ->
    [one] Eén cijfer
   *[other] { $n } cijfers
}
web-fig-col-indicator = Indicator
web-fig-col-period = Periode
web-fig-col-value = Waarde
web-fig-col-unit = Eenheid
web-fig-col-source = Bron
web-fig-col-to-act = Wie moet handelen
web-fig-col-actions = Handelen
web-fig-state-agreed = overeengekomen
web-fig-state-pending = open
web-fig-state-disputed = betwist
web-fig-state-superseded = vervangen
web-fig-state-conflict = conflict
web-fig-state-missing = ontbreekt
web-fig-to-submit = { $parties } moet indienen
web-fig-to-attest = { $parties } moet bevestigen
web-fig-to-correct-disputed = { $parties } moet corrigeren (betwist: { $reasons })
web-fig-to-correct-conflict = { $parties } moet een van de strijdige cijfers corrigeren
web-fig-settlement-conflict = CONFLICT: { $what }
web-fig-derived = afgeleid uit een bestand (blake3 { $hash })
web-fig-correction-reason = correctie: { $reason }
web-fig-value = Waarde
web-fig-new-value = Nieuwe waarde
web-fig-note = Toelichting
web-fig-reason = Reden
web-fig-submit = Indienen
web-fig-attest = Bevestigen
web-fig-dispute = Betwisten
web-fig-correct = Corrigeren
web-fig-attest-all-intro = Bevestig alle cijfers van dit jaar die op uw bevestiging wachten.
web-fig-attest-all = Alle openstaande bevestigen
web-fig-not-in-year = { $entry } is geen cijfer van dit contract en jaar; er is niets ondertekend.
web-fig-not-missing = { $indicator } { $period } is geen ontbrekend cijfer van dit contract en jaar; er is niets ondertekend.
web-sign-heading = Medeondertekenen als { $party }
web-sign-you-sign = U ondertekent, als { $party }, de afrekening { $year } ({ $hash }) met deze bedragen:
web-sign-amounts = Bedragen per partij die u ondertekent
web-sign-receives = Ontvangt ({ $currency })
web-sign-pays = Betaalt ({ $currency })
web-sign-payment = { $from } betaalt { $to } { $amount }
web-sign-no-payments = Geen betalingen.
web-sign-button = Afrekening ondertekenen
web-sign-stale = De cijfers zijn gewijzigd sinds deze pagina werd getoond, dus de afrekening verschilt van de getoonde; er is niets ondertekend. Laad de pagina opnieuw, controleer de bedragen en onderteken opnieuw.
web-sign-already = Deze afrekening is al door uw partij ondertekend of al vastgesteld; er is niets ondertekend.
web-sign-settled = VASTGESTELD
web-resettle-heading = { $year } opnieuw vaststellen als { $party }
web-resettle-explain = { $year } is vastgesteld met afrekening { $old }, maar de overeengekomen cijfers geven nu afrekening { $new }: een cijfer is gecorrigeerd nadat het jaar was vastgesteld. De correcties ten opzichte van de vastgestelde afrekening staan hieronder. Ondertekenen van de gecorrigeerde afrekening vervangt de vastgestelde zodra elke ondertekenaar haar heeft ondertekend; tot dan blijft de vastgestelde afrekening staan.
web-resettle-button = Gecorrigeerde afrekening ondertekenen
web-sig-title = Ondertekeningen
web-sig-intro = Elke ondertekening die deze werkplek veroorzaakte: wie, vanaf waar, waarop. Nieuwste eerst.
web-sig-not-allowed = Het ondertekeningslogboek is voor ondertekenaars en auditors; u bent { $role }.
web-sig-none = De werkplek heeft nog niets ondertekend.
web-sig-caption = { $n ->
    [one] Eén ondertekening
   *[other] { $n } ondertekeningen
}
web-sig-skipped = Overgeslagen in het logboek: { $what }
web-sig-col-time = Tijd
web-sig-col-address = Adres
web-sig-col-action = Handeling
web-sig-col-entries = Boekingen
