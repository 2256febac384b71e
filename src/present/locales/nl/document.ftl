# De afrekening als document (HTML, PDF): de woorden die het heeft naast die
# van de afrekening in de terminal (statement.ftl) en de correcties
# (settle.ftl). Elk bericht heeft een Engelse tweeling in ../en/document.ftl.
document-key-currency = valuta
document-key-signs = tekenafspraak
document-signs = elk bedrag is 0 of meer; een betaling leest VAN -> NAAR; per partij: ontvangt of betaalt (kasstroom), verdiend of gedragen (resultaat)
document-derivation-caption = Elke regel van de berekening, met de berekening in woorden
document-col-line = REGEL
document-col-route = VAN -> NAAR
document-col-funding = FINANCIERINGSSTROOM
document-col-balance = SALDO
document-col-amount = BEDRAG
document-col-key = VINGERAFDRUK SLEUTEL
document-col-statement = AFREKENING
document-col-time = ONDERTEKEND OP (KLOK VAN DE ONDERTEKENAAR)
document-col-entry = REGISTRATIE
document-signatures-heading = HANDTEKENINGEN EN STATUS
document-state = Deze afrekening: { $standing }
document-no-signatures = Nog geen afrekening van dit jaar is ondertekend.
document-page = pagina { $n } van { $total }
