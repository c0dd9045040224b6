# Spanish number formats (settings.FORMAT_MODULE_PATH); everything else is Django's own.
# A point between thousands (1.502 incidentes), the product's Spanish style; Django's
# default for Spanish is a space.
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
