module dumont.invalid/pack

go 1.26
