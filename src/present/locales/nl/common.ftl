# Berichten die elk document gebruikt. Elk bestand hier heeft een Engelse
# tweeling in ../en/ met dezelfde bericht-ids (de tests controleren dat).
figures-count = { $n ->
    [one] { $n } cijfer
   *[other] { $n } cijfers
}
