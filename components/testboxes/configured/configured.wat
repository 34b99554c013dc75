;; export: wbox:test/configured@0.1.0
;;
;; A box that reads its configuration through wasi:config/store, which the
;; kernel serves from the box's config values:
;;
;;   get: func(key: string) -> string
;;
;; returns the value of key, or "<none>" when it is not set (or the store
;; fails).
;;
;; Canonical ABI: the lowered store.get takes (key ptr, key len, retptr);
;; result<option<string>, error> at retptr: result disc u8 @0, payload @4:
;; option disc u8 @4, string {ptr @8, len @12}. Our answer is a string
;; {ptr, len} at 48. Memory is a bump allocator reset after every call
;; (post-return), as in components/echo/wat/echo.wat.
(component
  (import "wasi:config/store@0.2.0-draft" (instance $store
    (type $error-def (variant (case "upstream" string) (case "io" string)))
    (export "error" (type $error (eq $error-def)))
    (export "get" (func (param "key" string) (result (result (option string) (error $error)))))
  ))
  (alias export $store "get" (func $store-get))

  (core module $Mem
    (memory (export "memory") 1)
    (data (i32.const 16) "<none>")
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

  (core func $get-lowered (canon lower (func $store-get) (memory $memory) (realloc $realloc)))

  (core module $Main
    (import "mem" "memory" (memory 1))
    (import "mem" "reset" (func $reset))
    (import "store" "get" (func $get (param i32 i32 i32)))
    (func (export "get") (param $key i32) (param $len i32) (result i32)
      (call $get (local.get $key) (local.get $len) (i32.const 32))
      (if (i32.and (i32.eqz (i32.load8_u (i32.const 32)))
                   (i32.eq (i32.load8_u (i32.const 36)) (i32.const 1)))
        (then
          (i32.store (i32.const 48) (i32.load (i32.const 40)))
          (i32.store (i32.const 52) (i32.load (i32.const 44))))
        (else
          (i32.store (i32.const 48) (i32.const 16))
          (i32.store (i32.const 52) (i32.const 6))))
      (i32.const 48))
    (func (export "post") (param i32) (call $reset))
  )
  (core instance $main (instantiate $Main
    (with "mem" (instance $mem))
    (with "store" (instance (export "get" (func $get-lowered))))
  ))

  (func $get (param "key" string) (result string)
    (canon lift (core func $main "get") (memory $memory) (realloc $realloc)
      (post-return (core func $main "post"))))
  (instance $iface (export "get" (func $get)))
  (export "wbox:test/configured@0.1.0" (instance $iface))
)
