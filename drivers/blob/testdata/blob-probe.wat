;; export: wbox:blob-probe/probe@0.1.0
;;
;; A test box for drivers/blob: it imports wbox:blob/store@0.1.0 (write and
;; delete only) and exports them as codes, so a test can drive the driver
;; through a real kernel, its arrow and the canonical ABI:
;;
;;   put(path, data) -> u32: 0 ok, else 1 + the error case
;;   del(path) -> u32: 0 absent, 1 deleted, else 10 + the error case
;;
;; Error cases (wit/wbox-blob.wit): 0 invalid-path, 1 not-found, 2
;; wrong-kind, 3 read-only, 4 io, 5 changed. The result is lowered at 32:
;; discriminant u8 @32, payload @36 (bool, or the error's case u8 @36 and
;; its string @40/@44). Memory is a bump allocator reset after every call.
(component
  (import "wbox:blob/store@0.1.0" (instance $store
    (type $error-def (variant (case "invalid-path" string) (case "not-found") (case "wrong-kind")
                              (case "read-only") (case "io" string) (case "changed")))
    (export "error" (type $error (eq $error-def)))
    (export "write" (func (param "path" string) (param "data" (list u8)) (result (result (error $error)))))
    (export "delete" (func (param "path" string) (result (result bool (error $error)))))
  ))
  (alias export $store "write" (func $store-write))
  (alias export $store "delete" (func $store-delete))

  (core module $Mem
    (memory (export "memory") 1)
    (global $top (mut i32) (i32.const 64))
    (func $realloc (export "realloc") (param $old i32) (param $old_size i32)
                   (param $align i32) (param $new_size i32) (result i32)
      (local $p i32) (local $end i32)
      (local.set $p (i32.and
        (i32.add (global.get $top) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $p) (local.get $new_size)))
      (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
        (then
          (if (i32.eq (i32.const -1) (memory.grow
                (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 0xffff)) (i32.const 16))
                         (memory.size))))
            (then unreachable))))
      (global.set $top (local.get $end))
      (if (local.get $old_size)
        (then (memory.copy (local.get $p) (local.get $old)
          (select (local.get $old_size) (local.get $new_size)
                  (i32.lt_u (local.get $old_size) (local.get $new_size))))))
      (local.get $p))
    (func (export "reset") (global.set $top (i32.const 64)))
  )
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "memory" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))

  (core func $write-lowered (canon lower (func $store-write) (memory $memory) (realloc $realloc)))
  (core func $delete-lowered (canon lower (func $store-delete) (memory $memory) (realloc $realloc)))

  (core module $Main
    (import "mem" "memory" (memory 1))
    (import "mem" "reset" (func $reset))
    (import "store" "write" (func $write (param i32 i32 i32 i32 i32)))
    (import "store" "delete" (func $delete (param i32 i32 i32)))
    (func (export "put") (param $p i32) (param $pl i32) (param $d i32) (param $dl i32) (result i32)
      (call $write (local.get $p) (local.get $pl) (local.get $d) (local.get $dl) (i32.const 32))
      (if (result i32) (i32.eqz (i32.load8_u (i32.const 32)))
        (then (i32.const 0))
        (else (i32.add (i32.const 1) (i32.load8_u (i32.const 36))))))
    (func (export "del") (param $p i32) (param $pl i32) (result i32)
      (call $delete (local.get $p) (local.get $pl) (i32.const 32))
      (if (result i32) (i32.eqz (i32.load8_u (i32.const 32)))
        (then (i32.load8_u (i32.const 36)))
        (else (i32.add (i32.const 10) (i32.load8_u (i32.const 36))))))
    (func (export "post") (param i32) (call $reset))
  )
  (core instance $main (instantiate $Main
    (with "mem" (instance $mem))
    (with "store" (instance (export "write" (func $write-lowered)) (export "delete" (func $delete-lowered))))
  ))

  (func $put (param "path" string) (param "data" (list u8)) (result u32)
    (canon lift (core func $main "put") (memory $memory) (realloc $realloc)
      (post-return (core func $main "post"))))
  (func $del (param "path" string) (result u32)
    (canon lift (core func $main "del") (memory $memory) (realloc $realloc)
      (post-return (core func $main "post"))))
  (instance $iface (export "put" (func $put)) (export "del" (func $del)))
  (export "wbox:blob-probe/probe@0.1.0" (instance $iface))
)
