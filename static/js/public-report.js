/* 市民随手拍 (templates/inspections/public/report_form.html): photos resized on the phone to at most
   1600 px before upload, the location from the phone (定位) or a pin on the map, a character count.
   The form works without this script: the server checks everything again. */
(function () {
  "use strict";
  var MAX_SIDE = 1600;
  var KEEP_BYTES = 1.5 * 1024 * 1024;
  var form = document.getElementById("public-report-form");
  if (!form) return;
  var maxPhotos = parseInt(form.dataset.maxPhotos, 10) || 4;

  // --- Description counter ---
  var description = document.getElementById("id_description");
  var count = document.getElementById("description-count");
  function recount() { count.textContent = String(description.value.length); }
  description.addEventListener("input", recount);
  recount();

  // --- Photos ---
  var input = document.getElementById("photo-input");
  var previews = document.getElementById("photo-previews");
  var photoMessage = document.getElementById("photo-message");
  var pending = 0;

  function shrink(file) {
    // A JPEG of at most MAX_SIDE px, or the file as it is (small enough, or not decodable here:
    // the server then says what is wrong with it).
    if (!window.createImageBitmap || !window.DataTransfer) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size <= KEEP_BYTES) { bitmap.close && bitmap.close(); return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close && bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob) { resolve(file); return; }
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
        }, "image/jpeg", 0.85);
      });
    }, function () { return file; });
  }

  function showPreviews(files) {
    previews.textContent = "";
    files.forEach(function (file) {
      var img = document.createElement("img");
      img.alt = "待上传的照片";
      img.src = URL.createObjectURL(file);
      img.dataset.testid = "photo-preview";
      img.setAttribute("data-testid", "photo-preview");
      previews.appendChild(img);
    });
  }

  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files || []);
    photoMessage.textContent = "";
    if (files.length > maxPhotos) {
      photoMessage.textContent = "最多上传 " + maxPhotos + " 张照片，已保留前 " + maxPhotos + " 张。";
      files = files.slice(0, maxPhotos);
    }
    pending += 1;
    form.dataset.photosReady = "0";
    Promise.all(files.map(shrink)).then(function (ready) {
      pending -= 1;
      if (window.DataTransfer) {
        var transfer = new DataTransfer();
        ready.forEach(function (file) { transfer.items.add(file); });
        input.files = transfer.files;
      }
      showPreviews(ready);
      if (!pending) form.dataset.photosReady = "1";
    });
  });

  var submitting = false;
  form.addEventListener("submit", function (event) {
    if (pending) {
      event.preventDefault();
      photoMessage.textContent = "照片正在处理，请稍候再提交。";
      return;
    }
    if (submitting) { event.preventDefault(); return; }
    submitting = true;
    var button = document.getElementById("report-submit");
    button.disabled = true;
    button.dataset.label = button.textContent;
    button.textContent = "正在提交…";
  });
  // Back to this page from the receipt (the browser's page cache): the button works again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    submitting = false;
    var button = document.getElementById("report-submit");
    button.disabled = false;
    button.textContent = button.dataset.label || button.textContent;
  });

  // --- Location ---
  var latField = document.getElementById("id_latitude");
  var lngField = document.getElementById("id_longitude");
  var status = document.getElementById("locate-status");
  var mapEl = document.getElementById("report-map");
  var data = JSON.parse(document.getElementById("report-map-data").textContent || "null") || {};
  var map = null;
  var marker = null;

  function fixed(value) { return Number(value).toFixed(6); }

  function place(lat, lng, text) {
    latField.value = fixed(lat);
    lngField.value = fixed(lng);
    status.textContent = text || ("已选位置：" + fixed(lat) + "，" + fixed(lng));
    status.className = "small mb-2 text-success";
    if (map) {
      if (marker) { marker.setLatLng([lat, lng]); } else {
        marker = L.marker([lat, lng], { draggable: true, keyboard: false, title: "问题位置" }).addTo(map);
        marker.on("dragend", function () {
          var p = marker.getLatLng().wrap();
          place(p.lat, p.lng);
        });
      }
      map.setView([lat, lng], Math.max(map.getZoom(), 16));
    }
  }

  if (typeof L !== "undefined" && mapEl) {
    L.Icon.Default.imagePath = (document.querySelector('link[href*="leaflet.css"]').href || "").replace(/leaflet\.css.*$/, "images/");
    map = L.map(mapEl, { attributionControl: !!data.tileUrl, zoomSnap: 0.5 });
    if (data.tileUrl) {
      L.tileLayer(data.tileUrl, { maxZoom: 19, attribution: data.attribution || "" }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);
    map.setView(data.centre || [35.0, 105.0], data.zoom || 4);
    // wrap(): a click on the world's next copy east or west is still a longitude within ±180.
    map.on("click", function (event) { var p = event.latlng.wrap(); place(p.lat, p.lng); });
    if (latField.value && lngField.value) place(parseFloat(latField.value), parseFloat(lngField.value));
    window.addEventListener("resize", function () { map.invalidateSize(); });
  } else if (mapEl) {
    mapEl.textContent = "地图组件未加载：请使用定位按钮，或填写地址。";
  }

  document.getElementById("clear-location").addEventListener("click", function () {
    latField.value = "";
    lngField.value = "";
    if (marker && map) { map.removeLayer(marker); marker = null; }
    status.textContent = "尚未选择位置：可定位，或在地图上点选。";
    status.className = "small mb-2";
  });

  document.getElementById("locate-button").addEventListener("click", function () {
    if (!navigator.geolocation) {
      status.textContent = "此浏览器不支持定位：请在地图上点选位置，或填写地址。";
      status.className = "small mb-2 text-danger";
      return;
    }
    status.textContent = "正在定位…";
    status.className = "small mb-2 text-secondary";
    navigator.geolocation.getCurrentPosition(function (position) {
      var c = position.coords;
      var accuracy = c.accuracy ? "（精度约 " + Math.round(c.accuracy) + " 米）" : "";
      place(c.latitude, c.longitude, "已定位：" + fixed(c.latitude) + "，" + fixed(c.longitude) + accuracy);
    }, function (error) {
      var reasons = { 1: "您拒绝了定位授权", 2: "暂时无法获取位置", 3: "定位超时" };
      status.textContent = (reasons[error.code] || "定位失败") + "：请在地图上点选位置，或填写地址。";
      status.className = "small mb-2 text-danger";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
