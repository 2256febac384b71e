# De webwerkplek (`vereffen serve`). Engelse tweeling: ../en/web.ftl.
web-skip = Naar de inhoud
web-nav = Werkplek
web-inbox = Inbox
web-contracts = Contracten
web-signed-in-as = { $user } ({ $role })
web-logout = Uitloggen
web-login = Inloggen
web-user = Gebruikersnaam
web-password = Wachtwoord
web-login-wrong = Onjuiste gebruikersnaam of wachtwoord.
web-login-too-many = Te veel mislukte pogingen om in te loggen; probeer het over een kwartier opnieuw.
web-csrf-refused = Dit formulier is verlopen of kwam niet van deze werkplek; er is niets gewijzigd. Laad de pagina opnieuw en probeer het nog eens.
web-failed = De node kon dit verzoek niet beantwoorden; zie zijn log.
web-message = Bericht
web-not-found = Deze pagina bestaat niet op deze node.
web-inbox-empty = Er wacht niets op uw organisatie.
web-inbox-caption = { $n ->
    [one] Eén punt wacht op uw organisatie
   *[other] { $n } punten wachten op uw organisatie
}
web-col-what = Wat
web-col-ledger = Grootboek
web-col-contract = Contract
web-col-year = Jaar
web-col-party = Partij
web-col-title = Titel
web-col-parties = Partijen
web-col-state = Stand
web-col-name = Naam
web-col-role = Rol
web-col-signatory = Tekent
web-col-version = Versie
web-col-kind = Soort
web-col-offered-by = Aangeboden door
web-contracts-none = Deze node heeft nog geen contracten.
web-contracts-caption = { $n ->
    [one] Eén contract op de grootboeken van deze node
   *[other] { $n } contracten op de grootboeken van deze node
}
web-state-in-force = van kracht (versie { $version })
web-state-negotiating = in onderhandeling
web-state-conflict = conflict
web-parties = Partijen
web-years = Jaren: wat elk jaar bepaalt en hoe de afrekening ervan staat
web-versions = Versies
web-year-settled = afgerekend
web-year-signed = ondertekend door { $parties }
web-year-open = open: nog niet ondertekend
web-yes = ja
web-no = nee
web-terms = Voorwaarden
web-terms-note = De voorwaarden zoals het contract ze vastlegt (de woorden uit het contractbestand zoals ze er staan).
web-statement = Afrekening
web-back-to-contract = Terug naar het contract
web-standing = Deze afrekening
web-downloads = Downloaden
