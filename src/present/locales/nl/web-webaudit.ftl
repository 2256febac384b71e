# De auditpagina's van de webwerkplek (src/web/audit.rs).
web-audit = Audit
web-audit-of-ledger = Audit van dit grootboek
web-audit-signatures = Ondertekeningslog: welke gebruiker welke handtekening liet zetten
web-audit-roles = Elke gebruiker van deze werkplek (kijker, ondertekenaar, auditor) mag de auditpagina's lezen; ze wijzigen niets. Alleen ondertekenaars ondertekenen.
web-audit-none = Deze node bevat nog geen grootboeken.
web-audit-caption = { $n ->
    [one] Eén grootboek op deze node
   *[other] { $n } grootboeken op deze node
}
web-audit-no-checkpoint = geen vastgelegd
web-audit-checkpoint = { $origin }, boomgrootte { $size }, { $n ->
    [0] door niemand medeondertekend
    [one] medeondertekend door één getuige
   *[other] medeondertekend door { $n } getuigen
}
web-col-entries = Boekingen
web-col-anomalies = Afwijkingen
web-col-last-checkpoint = Laatste checkpoint
web-verify = Verificatie
web-verify-ok = verificatie in orde: keten intact, elke id, handtekening, sleutel en verwijzing klopt
web-verify-failed = verificatie MISLUKT
web-verify-cannot = deze kopie kon niet worden geverifieerd
web-verify-signatures = Gecontroleerde handtekeningen
web-verify-replayed = Afrekeningshandtekeningen waarvan de afrekening opnieuw is berekend uit de ondertekende gegevens
web-verify-torn = Afgebroken staart
web-verify-conflicts = Afrekeningsconflicten
web-verify-void = Ongeldige boekingen (ze tellen niet mee)
