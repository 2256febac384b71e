# Messages shared by every document. Each file here has a Dutch twin in
# ../nl/ with the same message ids (checked by the tests).
figures-count = { $n ->
    [one] { $n } figure
   *[other] { $n } figures
}
