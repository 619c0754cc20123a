module dumont.invalid/host-init

go 1.26
