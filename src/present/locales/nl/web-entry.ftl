# De webwerkplek: de pagina van een boeking en de herleiding van een
# afrekening tot de ondertekende boekingen waaruit zij volgt (web/entry.rs).

web-entry-title = Boeking { $id }
web-entry-void = Deze boeking is ongeldig in dit exemplaar (de sleutel van de auteur was ingetrokken voordat zij werd geschreven): geen cijfer, handtekening of afrekening telt haar mee.
web-entry-id = Boekingsnummer (blake3 van de ondertekende bytes)
web-entry-seq = Plaats in het journaal van dit exemplaar
web-entry-kind = Soort
web-entry-author = Auteur (partij)
web-entry-time = Tijdstip volgens de auteur
web-entry-contract = Contract
web-entry-signatures = Handtekeningen
web-entry-key = Vingerafdruk van de sleutel
web-entry-key-party = Partij van de sleutel
web-entry-verified = Elke handtekening is bij binnenkomst in dit exemplaar gecontroleerd tegen het register van het grootboek; `vereffen verify` controleert ze opnieuw.
web-entry-refs = Boekingen waarnaar zij verwijst
web-entry-no-refs = Geen.
web-entry-not-held = (niet in dit exemplaar)
web-entry-referrers = Boekingen die ernaar verwijzen
web-entry-no-referrers = Geen in dit exemplaar.
web-entry-referrers-cut = Alleen de eerste { $n } staan hier.
web-entry-bytes = Ondertekende bytes
web-entry-bytes-note = Precies wat is ondertekend en gehasht (canonieke JSON, docs/FORMAT.md): een accountant kan er het boekingsnummer uit herberekenen.
web-entry-used-heading = Gebruikte cijfers en hun ondertekende boekingen
web-entry-used-note = Elk overeengekomen cijfer waaruit deze afrekening is berekend, met de boeking waarin het is aangeleverd en de boekingen van de partijen die het ondertekenden. Volg een cijfer naar zijn regel op de cijferpagina, of een boeking naar wat zij zegt en wie haar ondertekende.
web-entry-indicator = Indicator
web-entry-period = Periode
web-entry-value = Waarde
web-entry-source = Bron
web-entry-submitted = Aangeleverd in
web-entry-signed-by = Bevestigd door
web-entry-statement-signed = Boekingen die deze afrekening ondertekenden
